import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit.ts';
import { adminRoles } from '../../auth/principal.ts';
import { encryptSecret, kekFromConfig } from '../../crypto/envelope.ts';
import { type DbClient, withTransaction } from '../../db/pool.ts';
import { conflict, notFound } from '../../errors.ts';
import type { Api } from '../route.ts';
import { orgParams, pageQuery, z } from '../zod.ts';

export const maxSecretBytes = 64 * 1024;

/** Names a secret within its organization; resources refer to it by this name in `spec.secretRef`. */
export const secretName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/, 'lowercase letters, digits, and inner dashes or underscores');

// the messages never quote the value: a rejected secret must not come back in the error
const secretValue = z
  .string()
  .min(1)
  .max(maxSecretBytes)
  .refine((value) => Buffer.byteLength(value, 'utf8') <= maxSecretBytes, 'must be at most 64 KiB in UTF-8')
  .describe('The secret value, at most 64 KiB. Write-only: no response ever contains it.');

const secret = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number().int().describe('Starts at 1; each new value increments it'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('Secret');

interface SecretRow {
  id: string;
  name: string;
  description: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}
// metadata only: the sealed columns are never selected by the user API
const columns = 'id, name, description, version, created_at, updated_at';
const toSecret = (row: SecretRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  version: row.version,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const secretParams = orgParams.extend({ secretId: z.uuid() });

/** `FOR NO KEY UPDATE` to rotate: a resource being created with this secretRef (KEY SHARE) need not wait. */
async function lockSecret(
  tx: DbClient,
  orgId: string,
  secretId: string,
  mode: 'FOR UPDATE' | 'FOR NO KEY UPDATE',
): Promise<SecretRow> {
  const { rows } = await tx.query<SecretRow>(
    `SELECT ${columns} FROM secrets WHERE id = $1 AND org_id = $2 ${mode}`,
    [secretId, orgId],
  );
  if (!rows[0]) throw notFound('secret');
  return rows[0];
}

export function registerSecretRoutes(api: Api): void {
  const kek = kekFromConfig(api.deps.config);

  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/secrets',
    summary: 'Store a secret, envelope-encrypted; the answer holds its metadata, never its value',
    tags: ['secrets'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    body: z
      .object({ name: secretName, value: secretValue, description: z.string().trim().max(500).optional() })
      .strict(),
    response: { status: 201, schema: secret },
    handler: async ({ deps, org, body, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        // the id is chosen here because the ciphertext is bound to it
        const id = randomUUID();
        const sealed = encryptSecret(body.value, { orgId: org.id, secretId: id, version: 1 }, kek);
        const { rows } = await tx.query<SecretRow>(
          `INSERT INTO secrets (id, org_id, name, description, version, kek_id, wrapped_key, ciphertext)
           VALUES ($1, $2, $3, $4, 1, $5, $6, $7) ON CONFLICT (org_id, name) DO NOTHING RETURNING ${columns}`,
          [
            id,
            org.id,
            body.name,
            body.description ?? null,
            sealed.kekId,
            sealed.wrappedKey,
            sealed.ciphertext,
          ],
        );
        if (!rows[0])
          throw conflict(`a secret named "${body.name}" already exists; PUT a new value to rotate it`);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'secret.created',
          targetType: 'secret',
          targetId: id,
          data: { name: body.name, version: 1 },
          requestId,
        });
        return toSecret(rows[0]);
      }),
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/secrets',
    summary: "List the organization's secrets by name (metadata only)",
    tags: ['secrets'],
    access: { kind: 'org' },
    params: orgParams,
    query: pageQuery
      .extend({ cursor: secretName.optional().describe('`nextCursor` of the previous page') })
      .strict(),
    response: {
      status: 200,
      schema: z.object({ data: z.array(secret), nextCursor: z.string().nullable() }),
    },
    handler: async ({ deps, org, query }) => {
      const { rows } = await deps.db.query<SecretRow>(
        `SELECT ${columns} FROM secrets WHERE org_id = $1 AND ($2::text IS NULL OR name > $2)
          ORDER BY name LIMIT $3`,
        [org.id, query.cursor ?? null, query.limit + 1],
      );
      const page = rows.slice(0, query.limit);
      return { data: page.map(toSecret), nextCursor: rows.length > query.limit ? page.at(-1)!.name : null };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/secrets/{secretId}',
    summary: "A secret's metadata (never its value)",
    tags: ['secrets'],
    access: { kind: 'org' },
    params: secretParams,
    response: { status: 200, schema: secret },
    handler: async ({ deps, org, params }) => {
      const { rows } = await deps.db.query<SecretRow>(
        `SELECT ${columns} FROM secrets WHERE id = $1 AND org_id = $2`,
        [params.secretId, org.id],
      );
      if (!rows[0]) throw notFound('secret');
      return toSecret(rows[0]);
    },
  });

  api.route({
    method: 'put',
    path: '/v1/orgs/{orgId}/secrets/{secretId}/value',
    summary: 'Rotate a secret: store a new value under a new data key; the version increments',
    tags: ['secrets'],
    access: { kind: 'org', roles: adminRoles },
    params: secretParams,
    body: z.object({ value: secretValue }).strict(),
    response: { status: 200, schema: secret },
    handler: async ({ deps, org, params, body, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        const current = await lockSecret(tx, org.id, params.secretId, 'FOR NO KEY UPDATE');
        const version = current.version + 1;
        const sealed = encryptSecret(body.value, { orgId: org.id, secretId: current.id, version }, kek);
        const { rows } = await tx.query<SecretRow>(
          `UPDATE secrets SET version = $2, kek_id = $3, wrapped_key = $4, ciphertext = $5, updated_at = now()
            WHERE id = $1 RETURNING ${columns}`,
          [current.id, version, sealed.kekId, sealed.wrappedKey, sealed.ciphertext],
        );
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'secret.rotated',
          targetType: 'secret',
          targetId: current.id,
          data: { name: current.name, version },
          requestId,
        });
        return toSecret(rows[0]!);
      }),
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}/secrets/{secretId}',
    summary: 'Delete a secret; refused while a live resource names it in spec.secretRef',
    tags: ['secrets'],
    access: { kind: 'org', roles: adminRoles },
    params: secretParams,
    response: { status: 204 },
    handler: async ({ deps, org, params, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        // the row lock orders this against a resource that names the secret at the same moment
        const current = await lockSecret(tx, org.id, params.secretId, 'FOR UPDATE');
        const { rows: users } = await tx.query<{ id: string; name: string }>(
          `SELECT id, name FROM resources WHERE org_id = $1 AND deleted_at IS NULL AND spec->>'secretRef' = $2
            ORDER BY name LIMIT 20`,
          [org.id, current.name],
        );
        if (users.length > 0) {
          throw conflict(
            `the secret "${current.name}" is used by ${users.map((r) => r.name).join(', ')}; change or delete those resources first`,
            { resources: users },
          );
        }
        await tx.query('DELETE FROM secrets WHERE id = $1', [current.id]);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'secret.deleted',
          targetType: 'secret',
          targetId: current.id,
          data: { name: current.name, version: current.version },
          requestId,
        });
      }),
  });
}
