-- Up Migration
-- Data-plane agent identities (issue 5, item 3). An operator mints a one-time bootstrap token for a
-- cell; an agent trades it for its own credential (`pwa_<prefix>_<secret>`), scoped to that cell.
-- Both secrets are stored only as SHA-256 hashes. See docs/dataplane.md.

CREATE TABLE agent_bootstrap_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  cell_id text NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  -- set once, by the registration that consumed it: a second use finds no unused row
  used_at timestamptz,
  agent_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  cell_id text NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  name text NOT NULL,
  -- `pwa_<prefix>_…`: the prefix finds the row, the hash of the whole credential proves it
  prefix text NOT NULL UNIQUE,
  secret_hash text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  -- written by heartbeats only, so a read costs no write
  last_seen_at timestamptz,
  applied_sequence bigint,
  revoked_at timestamptz
);
CREATE INDEX agents_cell_idx ON agents (cell_id);

-- Down Migration
DROP TABLE agents, agent_bootstrap_tokens;
