-- Up Migration
-- written by the diagnostic flow (test mode only): one row per effect, with no unique key, so a
-- test can count exactly how often an effect happened
CREATE TABLE diagnostic_effects (
  id bigserial PRIMARY KEY,
  flow_id uuid NOT NULL,
  step text NOT NULL,
  idempotency_key text NOT NULL,
  worker text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX diagnostic_effects_flow_idx ON diagnostic_effects (flow_id);

-- Down Migration
DROP TABLE diagnostic_effects;
