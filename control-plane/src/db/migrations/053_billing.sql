-- Up Migration
-- Billing with the payment provider and the CRM (issue 7, items 5 and 6): the vendors' ids of each
-- organization's billing, and the limits of each paid plan, which reach the data plane as part of
-- every live resource's desired state. See docs/scenarios.md ("Billing") and docs/dataplane.md.

-- The vendors' ids, kept here so every flow (dunning, plan change, tenant deletion cancelling the
-- subscription) finds them: external_customer_id (001) is the Stripe customer.
ALTER TABLE billing_accounts
  ADD COLUMN stripe_subscription_id text,
  ADD COLUMN stripe_price_id text,
  ADD COLUMN salesforce_account_id text,
  ADD COLUMN salesforce_opportunity_id text;
CREATE UNIQUE INDEX billing_accounts_customer_idx ON billing_accounts (external_customer_id)
  WHERE external_customer_id IS NOT NULL;

-- What each paid plan lets an organization run. A trial has no row: its data plane runs with its
-- own defaults, and its desired state carries no `limits`.
CREATE TABLE plan_limits (
  plan text PRIMARY KEY CHECK (plan IN ('trial', 'starter', 'pro', 'enterprise')),
  limits jsonb NOT NULL CHECK (jsonb_typeof(limits) = 'object')
);
INSERT INTO plan_limits (plan, limits) VALUES
  ('starter', '{"maxResources": 5, "maxStorageGb": 100, "concurrentBuilds": 2}'),
  ('pro', '{"maxResources": 25, "maxStorageGb": 1000, "concurrentBuilds": 8}'),
  ('enterprise', '{"maxResources": 1000, "maxStorageGb": 16384, "concurrentBuilds": 64}');

-- The one definition of a resource's desired state (040), now with its organization's plan limits.
CREATE OR REPLACE FUNCTION outbox_desired_state(r resources) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('kind', r.kind, 'name', r.name, 'spec', r.spec, 'generation', r.generation,
    'phase', outbox_desired_phase(r.phase), 'orgId', r.org_id, 'cell', r.cell_id)
    || COALESCE((SELECT jsonb_build_object('limits', l.limits) FROM billing_accounts b
                   JOIN plan_limits l ON l.plan = b.plan WHERE b.org_id = r.org_id), '{}'::jsonb)
$$;

-- A plan change with other limits re-sends every live resource of the organization
-- (`resource.updated`, same generation), so agents apply the new limits; deferred to commit like the
-- resources' triggers, so the cells' counters are held for the commit only.
CREATE FUNCTION outbox_capture_plan() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r resources;
BEGIN
  IF (SELECT limits FROM plan_limits WHERE plan = OLD.plan)
     IS NOT DISTINCT FROM (SELECT limits FROM plan_limits WHERE plan = NEW.plan) THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT * FROM resources
            WHERE org_id = NEW.org_id AND outbox_resource_is_live(resources) ORDER BY cell_id, id LOOP
    PERFORM outbox_emit(r.cell_id, 'resource.updated', r, outbox_desired_state(r));
  END LOOP;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER billing_accounts_outbox_plan AFTER UPDATE ON billing_accounts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.plan IS DISTINCT FROM NEW.plan)
  EXECUTE FUNCTION outbox_capture_plan();

-- Down Migration
DROP TRIGGER billing_accounts_outbox_plan ON billing_accounts;
DROP FUNCTION outbox_capture_plan();
CREATE OR REPLACE FUNCTION outbox_desired_state(r resources) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('kind', r.kind, 'name', r.name, 'spec', r.spec, 'generation', r.generation,
    'phase', outbox_desired_phase(r.phase), 'orgId', r.org_id, 'cell', r.cell_id)
$$;
DROP TABLE plan_limits;
DROP INDEX billing_accounts_customer_idx;
ALTER TABLE billing_accounts DROP COLUMN stripe_subscription_id, DROP COLUMN stripe_price_id,
  DROP COLUMN salesforce_account_id, DROP COLUMN salesforce_opportunity_id;
