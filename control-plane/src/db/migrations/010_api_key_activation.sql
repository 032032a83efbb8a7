-- Up Migration
-- A new key is usable only once its create-api-key flow has passed the quota check and activated
-- it; until then (and forever, if the flow fails) authentication refuses it.
ALTER TABLE api_keys ADD COLUMN activated_at timestamptz;
-- keys made before activation existed were usable: they stay so
UPDATE api_keys SET activated_at = created_at;
CREATE INDEX api_keys_active_idx ON api_keys (org_id) WHERE activated_at IS NOT NULL AND revoked_at IS NULL;

-- Down Migration
DROP INDEX api_keys_active_idx;
ALTER TABLE api_keys DROP COLUMN activated_at;
