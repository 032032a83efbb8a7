-- Up Migration
CREATE TABLE flows (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type text NOT NULL,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
  org_id uuid,
  -- a flow started twice with the same key is started once
  dedupe_key text UNIQUE,
  context jsonb NOT NULL DEFAULT '{}'::jsonb,
  step_index integer NOT NULL DEFAULT 0,
  current_step text,
  attempts integer NOT NULL DEFAULT 0,
  next_run_at timestamptz NOT NULL DEFAULT now(),
  wait_for text,
  lease_owner text,
  lease_expires_at timestamptz,
  traceparent text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX flows_runnable_idx ON flows (next_run_at) WHERE state IN ('pending', 'running', 'waiting');
CREATE INDEX flows_type_state_idx ON flows (type, state, state_changed_at);
CREATE INDEX flows_org_idx ON flows (org_id);
CREATE INDEX flows_wait_idx ON flows (wait_for) WHERE state = 'waiting';

CREATE TABLE flow_steps (
  id bigserial PRIMARY KEY,
  flow_id uuid NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
  step text NOT NULL,
  attempt integer NOT NULL,
  worker text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  outcome text CHECK (outcome IN ('succeeded', 'failed', 'waiting', 'abandoned')),
  error text
);
CREATE INDEX flow_steps_flow_idx ON flow_steps (flow_id, id);

-- side effects done under an idempotency key (flow id, step, name): a retried step finds the saved result
CREATE TABLE flow_effects (
  key text PRIMARY KEY,
  flow_id uuid NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
  step text NOT NULL,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- the clock timers read: real time plus an offset that test mode may move forward
CREATE TABLE clock (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  offset_ms bigint NOT NULL DEFAULT 0
);
INSERT INTO clock (id, offset_ms) VALUES (true, 0);

-- the control plane's notion of "now" for timers: every process reads the same offset
CREATE FUNCTION clock_now() RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT clock_timestamp() + make_interval(secs => offset_ms / 1000.0) FROM clock $$;

-- Down Migration
DROP FUNCTION clock_now();
DROP TABLE clock, flow_effects, flow_steps, flows;
