-- Up Migration
-- Data plane, second part (issue 5, items 6, 8 and 9): re-sending a resource's desired state
-- (`resource.resync`), agents' encryption keys for customer secrets, what the data plane reports
-- it runs (drift), and when a resource's desired state last moved (stuck resources).
-- See docs/dataplane.md.

-- `resource.resync`: the same desired state at the same generation, sent again, because the
-- reconciler found the data plane running something else (drift), a retry after an internal apply
-- error, or a rotated secret the resource uses. Agents re-apply it.
ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_type_check;
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_type_check
  CHECK (type IN ('resource.created', 'resource.updated', 'resource.deleted', 'resource.resync'));

-- Emits `resource.resync` for a live resource, now (not deferred: the caller's transaction holds the
-- cell's counter until it commits, as a deferred trigger would). False when the resource is not live.
CREATE FUNCTION outbox_resync(resource_id uuid) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  r resources;
BEGIN
  SELECT * INTO r FROM resources WHERE id = resource_id;
  IF NOT FOUND OR NOT outbox_resource_is_live(r) THEN RETURN false; END IF;
  PERFORM outbox_emit(r.cell_id, 'resource.resync', r, outbox_desired_state(r));
  RETURN true;
END
$$;

-- A rotated secret reaches the agents of every live resource that names it: each is re-sent, and
-- the gateway seals the new version into the event for each agent.
CREATE FUNCTION outbox_capture_secret() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r resources;
BEGIN
  FOR r IN SELECT * FROM resources
            WHERE org_id = NEW.org_id AND spec->>'secretRef' = NEW.name AND outbox_resource_is_live(resources)
            ORDER BY cell_id, id LOOP
    PERFORM outbox_emit(r.cell_id, 'resource.resync', r, outbox_desired_state(r));
  END LOOP;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER secrets_outbox_rotate AFTER UPDATE ON secrets
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
  EXECUTE FUNCTION outbox_capture_secret();

-- The agent's X25519 public key (base64url, 32 bytes): secrets in its events are sealed to it.
-- NULL: the agent registered without one and receives no secrets.
ALTER TABLE agents ADD COLUMN encryption_key text;

-- When the desired state last moved (a new generation, or a phase the agent acts on): a resource
-- whose observed generation lags for long after it is stuck.
ALTER TABLE resources ADD COLUMN desired_at timestamptz NOT NULL DEFAULT now();
-- The spec the data plane last said it runs (status reports' observedSpec); NULL when not reported.
ALTER TABLE resources ADD COLUMN observed_spec jsonb;
-- The reconciler's finding on this resource: drift (the data plane runs another spec at the
-- desired generation) or stuck (the desired generation is not observed in time), and what it did
-- about it: { kind, detectedAt, resyncs, lastResyncAt, state: 'converging' | 'unresolved' }.
ALTER TABLE resources ADD COLUMN reconcile jsonb;
CREATE INDEX resources_reconcile_idx ON resources ((reconcile->>'kind')) WHERE reconcile IS NOT NULL;

CREATE FUNCTION resources_touch_desired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.desired_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER resources_desired_at BEFORE UPDATE ON resources
  FOR EACH ROW WHEN (OLD.generation IS DISTINCT FROM NEW.generation
    OR outbox_desired_phase(OLD.phase) IS DISTINCT FROM outbox_desired_phase(NEW.phase)
    OR OLD.cell_id IS DISTINCT FROM NEW.cell_id)
  EXECUTE FUNCTION resources_touch_desired();

-- Down Migration
DROP TRIGGER resources_desired_at ON resources;
DROP FUNCTION resources_touch_desired();
DROP INDEX resources_reconcile_idx;
ALTER TABLE resources DROP COLUMN reconcile, DROP COLUMN observed_spec, DROP COLUMN desired_at;
ALTER TABLE agents DROP COLUMN encryption_key;
DROP TRIGGER secrets_outbox_rotate ON secrets;
DROP FUNCTION outbox_capture_secret();
DROP FUNCTION outbox_resync(uuid);
DELETE FROM outbox_events WHERE type = 'resource.resync';
ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_type_check;
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_type_check
  CHECK (type IN ('resource.created', 'resource.updated', 'resource.deleted'));
