import { recordAudit } from '../../audit.ts';
import { adminRoles, type Role } from '../../auth/principal.ts';
import { generateApiKey } from '../../auth/secrets.ts';
import { type Queryable, withTransaction } from '../../db/pool.ts';
import { badRequest, conflict, forbidden, notFound } from '../../errors.ts';
import { createApiKeyFlow } from '../../flows/definitions/create-api-key.ts';
import { startFlow } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { orgParams, role, z } from '../zod.ts';

const keyStatus = z.enum(['pending', 'active', 'revoked']);
const apiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('The key starts with `pw_<prefix>_`; the prefix identifies it in lists'),
    role,
    status: keyStatus.describe('pending until the create-api-key flow activates it; only active keys work'),
    createdBy: z.uuid().nullable(),
    createdAt: z.iso.datetime(),
    activatedAt: z.iso.datetime().nullable(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi('ApiKey');
const createdApiKey = apiKey
  .extend({
    status: z.enum(['active', 'pending']),
    key: z.string().describe('The secret, shown in this response only: it is stored as a hash'),
    flowId: z.uuid().describe('The create-api-key flow; follow it when the answer was 202 pending'),
  })
  .openapi('CreatedApiKey');

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_by: string | null;
  created_at: Date;
  activated_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
// never the secret_hash: not even the hash leaves the database
const columns = 'id, name, prefix, role, created_by, created_at, activated_at, last_used_at, revoked_at';
const iso = (date: Date | null) => date?.toISOString() ?? null;
const toApiKey = (row: KeyRow) => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  role: row.role,
  status: row.revoked_at ? 'revoked' : row.activated_at ? 'active' : 'pending',
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  activatedAt: iso(row.activated_at),
  lastUsedAt: iso(row.last_used_at),
  revokedAt: iso(row.revoked_at),
});

const keyParams = orgParams.extend({ keyId: z.uuid() });
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional().describe('The id of the last key of the previous page'),
  includeRevoked: z.enum(['true', 'false']).default('false'),
});
/** How long the create request waits for the flow before it answers 202 with the key pending. */
const createWaitMs = 5_000;

async function findKey(db: Queryable, orgId: string, keyId: string, lock = ''): Promise<KeyRow> {
  const { rows } = await db.query<KeyRow>(
    `SELECT ${columns} FROM api_keys WHERE id = $1 AND org_id = $2 ${lock}`,
    [keyId, orgId],
  );
  if (!rows[0]) throw notFound('API key');
  return rows[0];
}

async function keyExists(db: Queryable, orgId: string, keyId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM api_keys WHERE id = $1 AND org_id = $2', [keyId, orgId]);
  return rowCount === 1;
}

export function registerApiKeyRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/api-keys',
    summary:
      'Create an API key (201 once active; 202 with status pending when activation takes longer than 5 s; 409 when refused, e.g. over the quota of 25 active keys)',
    tags: ['api-keys'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    body: z.object({ name: z.string().trim().min(1).max(100), role }).strict(),
    response: { status: 201, schema: createdApiKey },
    handler: async ({ deps, org, body, principal, requestId, res }) => {
      // a leaked key must not be able to mint more keys, whatever its role
      if (principal?.type !== 'user') throw forbidden('an API key cannot create API keys; sign in as a user');
      if (body.role === 'owner' && org.role !== 'owner')
        throw forbidden(
          'a key cannot have more rights than its creator: only an owner may create owner keys',
        );
      const secret = generateApiKey();
      const { row, flowId } = await withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<KeyRow>(
          `INSERT INTO api_keys (org_id, name, prefix, secret_hash, role, created_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${columns}`,
          [org.id, body.name, secret.prefix, secret.hash, body.role, principal.userId],
        );
        const flow = await startFlow(tx, {
          type: createApiKeyFlow.type,
          orgId: org.id,
          context: { keyId: rows[0]!.id, requestId },
        });
        return { row: rows[0]!, flowId: flow.id };
      });
      const outcome = await deps.flows.waitForCompletion(flowId, createWaitMs);
      if (outcome && outcome.state !== 'succeeded') {
        throw conflict(
          `the API key was not created: ${outcome.lastError ?? `its flow was ${outcome.state}`}`,
          {
            keyId: row.id,
            flowId,
          },
        );
      }
      if (outcome) return { ...toApiKey(await findKey(deps.db, org.id, row.id)), key: secret.key, flowId };
      // the secret exists only in this answer: hand it over now; it works once the flow activates it
      res.status(202).json({ ...toApiKey(row), key: secret.key, flowId });
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/api-keys',
    summary: 'List API keys, newest first (prefix and metadata only, never the secret or its hash)',
    tags: ['api-keys'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    query: listQuery,
    response: { status: 200, schema: z.object({ data: z.array(apiKey), nextCursor: z.uuid().nullable() }) },
    handler: async ({ deps, org, query }) => {
      if (query.cursor && !(await keyExists(deps.db, org.id, query.cursor)))
        throw badRequest(
          'the cursor is not a key of this organization; pass nextCursor of the previous page',
        );
      const { rows } = await deps.db.query<KeyRow>(
        `SELECT ${columns} FROM api_keys
          WHERE org_id = $1 AND ($2 OR revoked_at IS NULL)
            AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM api_keys WHERE id = $3))
          ORDER BY created_at DESC, id DESC LIMIT $4`,
        [org.id, query.includeRevoked === 'true', query.cursor ?? null, query.limit],
      );
      const next = rows.length === query.limit ? rows.at(-1)!.id : null;
      return { data: rows.map(toApiKey), nextCursor: next };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/api-keys/{keyId}',
    summary: 'Get an API key (metadata only)',
    tags: ['api-keys'],
    access: { kind: 'org', roles: adminRoles },
    params: keyParams,
    response: { status: 200, schema: apiKey },
    handler: async ({ deps, org, params }) => toApiKey(await findKey(deps.db, org.id, params.keyId)),
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}/api-keys/{keyId}',
    summary:
      'Revoke an API key: it fails from the very next request. Idempotent: revoking a revoked key answers 204 again',
    tags: ['api-keys'],
    access: { kind: 'org', roles: adminRoles },
    params: keyParams,
    response: { status: 204 },
    handler: async ({ deps, org, params, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        const key = await findKey(tx, org.id, params.keyId, 'FOR UPDATE');
        if (key.role === 'owner' && org.role !== 'owner')
          throw forbidden('only an owner may revoke an owner key');
        // the first revocation is the one that counts: its time stays, and it is audited once
        if (key.revoked_at) return;
        await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'api_key.revoked',
          targetType: 'api_key',
          targetId: key.id,
          data: { name: key.name, prefix: key.prefix, role: key.role },
          requestId,
        });
      }),
  });
}
