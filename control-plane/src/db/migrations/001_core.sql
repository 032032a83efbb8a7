-- Up Migration
CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject text NOT NULL UNIQUE,
  email text,
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  -- tokens issued before this instant are rejected: "revoke every session"
  sessions_revoked_before timestamptz
);
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE memberships (
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member')),
  token_hash text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'revoked')),
  invited_by uuid REFERENCES users(id) ON DELETE SET NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_org_idx ON invitations (org_id, created_at DESC);
CREATE UNIQUE INDEX invitations_pending_email_idx ON invitations (org_id, lower(email)) WHERE status = 'pending';

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL UNIQUE,
  secret_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member')),
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at DESC);
CREATE INDEX api_keys_creator_idx ON api_keys (created_by);

CREATE TABLE cells (
  id text PRIMARY KEY,
  region text NOT NULL DEFAULT 'local',
  capacity integer NOT NULL CHECK (capacity >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE resources (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('database', 'pipeline')),
  name text NOT NULL,
  spec jsonb NOT NULL,
  generation bigint NOT NULL DEFAULT 1,
  cell_id text REFERENCES cells(id),
  phase text NOT NULL DEFAULT 'pending'
    CHECK (phase IN ('pending', 'provisioning', 'ready', 'failed', 'suspended', 'deprovisioning', 'deleted')),
  status jsonb NOT NULL DEFAULT '{}'::jsonb,
  observed_generation bigint NOT NULL DEFAULT 0,
  last_error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE UNIQUE INDEX resources_org_name_idx ON resources (org_id, name) WHERE deleted_at IS NULL;
CREATE INDEX resources_cell_idx ON resources (cell_id) WHERE deleted_at IS NULL;

CREATE TABLE secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name text NOT NULL,
  description text,
  version integer NOT NULL DEFAULT 1,
  -- envelope: the data key wrapped by the key-encryption key, and the value encrypted by the data key
  kek_id text NOT NULL,
  wrapped_key bytea NOT NULL,
  ciphertext bytea NOT NULL,
  cell_id text REFERENCES cells(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);

CREATE TABLE billing_accounts (
  org_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  plan text NOT NULL DEFAULT 'trial' CHECK (plan IN ('trial', 'starter', 'pro', 'enterprise')),
  status text NOT NULL DEFAULT 'trialing' CHECK (status IN ('trialing', 'active', 'past_due', 'suspended')),
  trial_ends_at timestamptz,
  external_customer_id text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  org_id uuid,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'flow')),
  actor_id text,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id DESC);

-- Down Migration
DROP TABLE audit_log, billing_accounts, secrets, resources, cells, api_keys, invitations, memberships, users, organizations;
