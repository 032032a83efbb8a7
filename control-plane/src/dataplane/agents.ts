// Data-plane agent identities (issue 5, item 3): one-time bootstrap tokens minted by the operator
// for a cell, traded by an agent for its own credential scoped to that cell. Agents are not user
// principals: their credential (`pwa_…`) opens the /v1/agent routes only.
import { randomBytes } from 'node:crypto';
import { apiKeyMatches, sha256Hex } from '../auth/secrets.ts';
import { type Db, type Queryable, withTransaction } from '../db/pool.ts';
import { ApiError, notFound, unauthorized } from '../errors.ts';

/** The agent a request was authenticated as; its cell comes from the credential, never the request. */
export interface AgentIdentity {
  id: string;
  cell: string;
  name: string;
  /** The agent's X25519 public key (JWK `x`, base64url); secrets are sealed to it. Null: it gets none. */
  encryptionKey: string | null;
}

const credentialPattern = /^pwa_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const bootstrapPattern = /^pwb_[A-Za-z0-9_-]{43}$/;

export function generateAgentCredential(): { token: string; prefix: string; hash: string } {
  const prefix = randomBytes(8).toString('hex').slice(0, 12);
  const token = `pwa_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, hash: sha256Hex(token) };
}

/** Mints a one-time bootstrap token for `cell`; only its hash is stored. 404 for an unknown cell. */
export async function createBootstrapToken(
  db: Queryable,
  cell: string,
  ttlMs: number,
): Promise<{ id: string; token: string; cell: string; expiresAt: Date }> {
  const token = `pwb_${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<{ id: string; expires_at: Date }>(
    `INSERT INTO agent_bootstrap_tokens (cell_id, token_hash, expires_at)
     SELECT id, $2, now() + make_interval(secs => $3::double precision / 1000) FROM cells WHERE id = $1
     RETURNING id, expires_at`,
    [cell, sha256Hex(token), ttlMs],
  );
  if (!rows[0]) throw notFound('cell');
  return { id: rows[0].id, token, cell, expiresAt: rows[0].expires_at };
}

/**
 * Consumes a bootstrap token and creates the agent, in one transaction: a token works once, and
 * a failed registration leaves it unused. 401 for an unknown, used or expired token (one answer
 * for all three, so the token's state reveals nothing).
 */
export async function registerAgent(
  db: Db,
  bootstrapToken: string,
  name: string,
  /** The agent's X25519 public key (JWK `x`), already checked to be one. */
  encryptionKey: string | null = null,
): Promise<{ agent: AgentIdentity; token: string }> {
  if (!bootstrapPattern.test(bootstrapToken)) throw unauthorized('the bootstrap token is invalid');
  return withTransaction(db, async (tx) => {
    const used = await tx.query<{ id: string; cell_id: string }>(
      `UPDATE agent_bootstrap_tokens SET used_at = now()
        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
        RETURNING id, cell_id`,
      [sha256Hex(bootstrapToken)],
    );
    const row = used.rows[0];
    if (!row) throw unauthorized('the bootstrap token is invalid, already used or expired');
    const credential = generateAgentCredential();
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO agents (cell_id, name, prefix, secret_hash, encryption_key) VALUES ($1, $2, $3, $4, $5)
       RETURNING id`,
      [row.cell_id, name, credential.prefix, credential.hash, encryptionKey],
    );
    await tx.query('UPDATE agent_bootstrap_tokens SET agent_id = $2 WHERE id = $1', [row.id, rows[0]!.id]);
    return { agent: { id: rows[0]!.id, cell: row.cell_id, name, encryptionKey }, token: credential.token };
  });
}

/** The agent behind a `pwa_…` credential, or 401. Reads one row by its unique prefix; writes nothing. */
export async function authenticateAgent(db: Queryable, token: string): Promise<AgentIdentity> {
  const prefix = credentialPattern.exec(token)?.[1];
  if (!prefix) throw unauthorized('malformed agent credential');
  const { rows } = await db.query<{
    id: string;
    cell_id: string;
    name: string;
    secret_hash: string;
    encryption_key: string | null;
  }>(
    'SELECT id, cell_id, name, secret_hash, encryption_key FROM agents WHERE prefix = $1 AND revoked_at IS NULL',
    [prefix],
  );
  const row = rows[0];
  if (!row || !apiKeyMatches(token, row.secret_hash))
    throw unauthorized('the agent credential is invalid or revoked');
  return { id: row.id, cell: row.cell_id, name: row.name, encryptionKey: row.encryption_key };
}

/** Records a heartbeat: when the agent was last seen and the sequence it has applied. */
export async function recordHeartbeat(
  db: Queryable,
  agentId: string,
  appliedSequence: number,
): Promise<void> {
  await db.query('UPDATE agents SET last_seen_at = now(), applied_sequence = $2 WHERE id = $1', [
    agentId,
    appliedSequence,
  ]);
}

/** 429 in the error format; `Retry-After` is set on the response by the caller. */
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limited', message, { retryAfterSeconds });
