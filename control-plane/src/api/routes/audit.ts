import { adminRoles } from '../../auth/principal.ts';
import type { Api } from '../route.ts';
import { orgParams, z } from '../zod.ts';

const auditEntry = z
  .object({
    id: z.string().describe('Increasing; pass the last one as `cursor` for the next page'),
    actor: z.object({
      type: z.enum(['user', 'api_key', 'system', 'flow']),
      id: z.string().nullable(),
    }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    data: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('AuditEntry');

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  // ids are a bigserial: digits only, and below 2^53 so they stay exact as numbers
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'the id of the last entry of the previous page')
    .optional(),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+)*$/, 'an action such as "api_key.created"')
    .max(100)
    .optional(),
});

interface AuditRow {
  id: number;
  actor_type: 'user' | 'api_key' | 'system' | 'flow';
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  data: Record<string, unknown>;
  request_id: string | null;
  created_at: Date;
}

export function registerAuditRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/audit-log',
    summary: "The organization's audit log, newest first (owners and admins)",
    tags: ['audit'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    query: auditQuery,
    response: {
      status: 200,
      schema: z.object({ data: z.array(auditEntry), nextCursor: z.string().nullable() }),
    },
    handler: async ({ deps, org, query }) => {
      // keyset pagination on the id: stable while new entries arrive, and served by (org_id, id DESC)
      const { rows } = await deps.db.query<AuditRow>(
        `SELECT id, actor_type, actor_id, action, target_type, target_id, data, request_id, created_at
           FROM audit_log
          WHERE org_id = $1 AND ($2::bigint IS NULL OR id < $2) AND ($3::text IS NULL OR action = $3)
          ORDER BY id DESC LIMIT $4`,
        [org.id, query.cursor ?? null, query.action ?? null, query.limit],
      );
      return {
        data: rows.map((row) => ({
          id: String(row.id),
          actor: { type: row.actor_type, id: row.actor_id },
          action: row.action,
          target: { type: row.target_type, id: row.target_id },
          data: row.data,
          requestId: row.request_id,
          createdAt: row.created_at.toISOString(),
        })),
        nextCursor: rows.length === query.limit ? String(rows.at(-1)!.id) : null,
      };
    },
  });
}
