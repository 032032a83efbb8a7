import { recordAudit } from '../../audit.ts';
import { adminRoles } from '../../auth/principal.ts';
import {
  type ReconcileFinding,
  type StoredResourceError,
  signalResourceFlows,
} from '../../dataplane/status.ts';
import { withOutboxTransaction } from '../../dataplane/traceparent.ts';
import type { DbClient } from '../../db/pool.ts';
import { ApiError, badRequest, conflict, notFound } from '../../errors.ts';
import { deprovisionResourceType } from '../../flows/definitions/deprovision-resource.ts';
import { provisionResourceType } from '../../flows/definitions/provision-resource.ts';
import { startFlow } from '../../flows/start.ts';
import { type Api, validationError } from '../route.ts';
import { orgParams, pageQuery, z } from '../zod.ts';
import { secretName } from './secrets.ts';

const secretRef = secretName.describe('Name of a secret of this organization holding the credentials');
// credentials belong in a secret: a URI with user:password@ would store them in plain text
const endpoint = z
  .string()
  .min(1)
  .max(500)
  .refine(
    (uri) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(uri),
    'must not contain credentials; store them in a secret and name it in secretRef',
  );

const databaseSpec = z
  .object({
    engine: z.literal('postgres'),
    version: z.enum(['14', '15', '16', '17']),
    storageGb: z.number().int().min(1).max(16_384),
    secretRef: secretRef.optional(),
  })
  .strict()
  .openapi('DatabaseSpec');
const pipelineSpec = z
  .object({ source: endpoint, sink: endpoint, secretRef: secretRef.optional() })
  .strict()
  .openapi('PipelineSpec');
const specs = { database: databaseSpec, pipeline: pipelineSpec } as const;
type Kind = keyof typeof specs;

const kind = z.enum(['database', 'pipeline']);
const phases = [
  'pending',
  'provisioning',
  'ready',
  'failed',
  'suspended',
  'deprovisioning',
  'deleted',
] as const;
const phase = z.enum(phases);
const resourceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z](?:[a-z0-9-]*[a-z0-9])?$/, 'a lowercase letter, then letters, digits and inner dashes');
const cellId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9-]+$/, 'a cell id such as "cell-1"');

const resourceError = z
  .object({
    class: z.enum(['internal', 'customer']),
    message: z.string().describe('Exact for customer errors; generic for internal ones'),
    hint: z.string().nullable(),
    supportId: z.string().describe('Quote it to support'),
    generation: z.number().int(),
    at: z.iso.datetime(),
  })
  .openapi('ResourceError');

const resource = z
  .object({
    id: z.uuid(),
    kind,
    name: z.string(),
    spec: z.union([databaseSpec, pipelineSpec]),
    generation: z.number().int().describe('Increments on every change of spec'),
    cell: z.string().nullable(),
    phase,
    status: z.record(z.string(), z.unknown()).describe('As last reported by the data plane'),
    observedGeneration: z.number().int().describe('The last generation the data plane acted on'),
    lastError: resourceError.nullable(),
    reconcile: z
      .object({
        kind: z.enum(['drift', 'stuck']),
        state: z.enum(['converging', 'unresolved']),
        detectedAt: z.string(),
        resyncs: z.number().int(),
      })
      .nullable()
      .describe(
        'What the reconciler found: drift (the data plane runs another spec than this one) or stuck (the generation is not applied in time), and whether it is still re-sending it',
      ),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    deletedAt: z.iso.datetime().nullable(),
  })
  .openapi('Resource');

const accepted = z
  .object({
    resource,
    flowId: z.uuid().nullable().describe('The flow carrying the change out; null when nothing changed'),
  })
  .openapi('ResourceAccepted');

const createBody = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('database'), name: resourceName, spec: databaseSpec, cell: cellId.optional() })
    .strict(),
  z
    .object({ kind: z.literal('pipeline'), name: resourceName, spec: pipelineSpec, cell: cellId.optional() })
    .strict(),
]);

interface ResourceRow {
  id: string;
  kind: Kind;
  name: string;
  spec: Record<string, unknown>;
  generation: number;
  cell_id: string | null;
  phase: z.output<typeof phase>;
  status: Record<string, unknown>;
  observed_generation: number;
  last_error: StoredResourceError | null;
  reconcile: ReconcileFinding | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  created_us: number;
}
const columns = `id, kind, name, spec, generation, cell_id, phase, status, observed_generation, last_error,
  reconcile, created_at, updated_at, deleted_at, (extract(epoch FROM created_at) * 1000000)::bigint AS created_us`;

// an internal error's text is ours, not the customer's: they get a support id instead
const publicError = (error: StoredResourceError | null) =>
  error && {
    class: error.class,
    message:
      error.class === 'customer'
        ? error.message
        : `an internal error on the data plane held this change up; quote support id ${error.supportId} to support`,
    hint: error.class === 'customer' ? (error.hint ?? null) : null,
    supportId: error.supportId,
    generation: error.generation,
    at: error.at,
  };

const toResource = (row: ResourceRow) => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  spec: row.spec,
  generation: row.generation,
  cell: row.cell_id,
  phase: row.phase,
  status: row.status,
  observedGeneration: row.observed_generation,
  lastError: publicError(row.last_error),
  reconcile: row.reconcile && {
    kind: row.reconcile.kind,
    state: row.reconcile.state,
    detectedAt: row.reconcile.detectedAt,
    resyncs: row.reconcile.resyncs,
  },
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  deletedAt: row.deleted_at?.toISOString() ?? null,
});

// the cursor is (created_at in whole microseconds, id): exact, and any integer in range is a valid instant
const cursorSchema = z.tuple([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.uuid()]);
const encodeCursor = (row: ResourceRow) =>
  Buffer.from(JSON.stringify([row.created_us, row.id])).toString('base64url');
function decodeCursor(cursor: string): [number, string] {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {}
  throw badRequest('invalid cursor: pass the nextCursor of a previous page unchanged');
}

const noCapacity = (message: string) => new ApiError(409, 'no_capacity', message);

/** Picks the resource's cell: the one asked for, or the least-loaded with room (live resources < capacity). */
async function placeResource(tx: DbClient, requested: string | undefined): Promise<string> {
  const load = `SELECT c.id FROM cells c LEFT JOIN resources r ON r.cell_id = c.id AND r.deleted_at IS NULL
     WHERE ($1::text IS NULL OR c.id = $1) GROUP BY c.id HAVING count(r.id) < c.capacity
     ORDER BY count(r.id)::float8 / c.capacity, c.id LIMIT 1`;
  if (requested) {
    const cell = await tx.query('SELECT id FROM cells WHERE id = $1 FOR UPDATE', [requested]);
    if (!cell.rows[0])
      throw badRequest(`unknown cell "${requested}"; leave "cell" out to place automatically`);
  } else {
    // every cell locked, always in one order: concurrent placements queue instead of deadlocking
    await tx.query('SELECT id FROM cells ORDER BY id FOR UPDATE');
  }
  // a new statement after the locks, so its snapshot counts every placement committed before ours
  const { rows } = await tx.query<{ id: string }>(load, [requested ?? null]);
  if (rows[0]) return rows[0].id;
  throw noCapacity(
    requested
      ? `cell "${requested}" is full; leave "cell" out to use any cell with room`
      : 'no cell has room for another resource; delete resources or ask the operator for capacity',
  );
}

async function assertSecretExists(tx: DbClient, orgId: string, name: string): Promise<void> {
  // KEY SHARE holds off a concurrent DELETE of the secret until this resource is committed
  const { rows } = await tx.query('SELECT 1 FROM secrets WHERE org_id = $1 AND name = $2 FOR KEY SHARE', [
    orgId,
    name,
  ]);
  if (!rows[0]) throw badRequest(`spec.secretRef: no secret named "${name}"; create it first`);
}

async function lockResource(tx: DbClient, orgId: string, id: string): Promise<ResourceRow> {
  const { rows } = await tx.query<ResourceRow>(
    `SELECT ${columns} FROM resources WHERE id = $1 AND org_id = $2 FOR UPDATE`,
    [id, orgId],
  );
  if (!rows[0]) throw notFound('resource');
  return rows[0];
}

const nameTaken = (name: string) => conflict(`a resource named "${name}" already exists`);
const resourceParams = orgParams.extend({ resourceId: z.uuid() });

export function registerResourceRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/resources',
    summary: 'Create a data-plane resource; it is placed in a cell and provisioned by a flow',
    tags: ['resources'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    body: createBody,
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, body, principal, requestId }) =>
      withOutboxTransaction(deps.db, async (tx) => {
        const taken = await tx.query(
          'SELECT 1 FROM resources WHERE org_id = $1 AND name = $2 AND deleted_at IS NULL',
          [org.id, body.name],
        );
        if (taken.rows[0]) throw nameTaken(body.name);
        if (body.spec.secretRef) await assertSecretExists(tx, org.id, body.spec.secretRef);
        const cell = await placeResource(tx, body.cell);
        const { rows } = await tx.query<ResourceRow>(
          `INSERT INTO resources (org_id, kind, name, spec, cell_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (org_id, name) WHERE deleted_at IS NULL DO NOTHING RETURNING ${columns}`,
          [org.id, body.kind, body.name, JSON.stringify(body.spec), cell],
        );
        const row = rows[0];
        if (!row) throw nameTaken(body.name);
        const flow = await startFlow(tx, {
          type: provisionResourceType,
          orgId: org.id,
          context: { resourceId: row.id, generation: 1 },
          dedupeKey: `${provisionResourceType}:${row.id}:1`,
        });
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'resource.created',
          targetType: 'resource',
          targetId: row.id,
          data: { kind: body.kind, name: body.name, cell, generation: 1 },
          requestId,
        });
        return { resource: toResource(row), flowId: flow.id };
      }),
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/resources',
    summary: "List the organization's resources, oldest first; deleted ones only with phase=deleted",
    tags: ['resources'],
    access: { kind: 'org' },
    params: orgParams,
    query: pageQuery.extend({ kind: kind.optional(), phase: phase.optional() }).strict(),
    response: {
      status: 200,
      schema: z.object({ data: z.array(resource), nextCursor: z.string().nullable() }),
    },
    handler: async ({ deps, org, query }) => {
      const [afterAt, afterId] = query.cursor ? decodeCursor(query.cursor) : [null, null];
      const { rows } = await deps.db.query<ResourceRow>(
        `SELECT ${columns} FROM resources
          WHERE org_id = $1 AND ($2::text IS NULL OR kind = $2)
            AND (CASE WHEN $3::text IS NULL THEN phase <> 'deleted' ELSE phase = $3 END)
            AND ($4::bigint IS NULL
              OR (created_at, id) > (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::uuid))
          ORDER BY created_at, id LIMIT $6`,
        [org.id, query.kind ?? null, query.phase ?? null, afterAt, afterId, query.limit + 1],
      );
      const page = rows.slice(0, query.limit);
      return {
        data: page.map(toResource),
        nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null,
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/resources/{resourceId}',
    summary: 'A resource: desired spec and generation, placement, phase and observed status',
    tags: ['resources'],
    access: { kind: 'org' },
    params: resourceParams,
    response: { status: 200, schema: resource },
    handler: async ({ deps, org, params }) => {
      const { rows } = await deps.db.query<ResourceRow>(
        `SELECT ${columns} FROM resources WHERE id = $1 AND org_id = $2`,
        [params.resourceId, org.id],
      );
      if (!rows[0]) throw notFound('resource');
      return toResource(rows[0]);
    },
  });

  api.route({
    method: 'patch',
    path: '/v1/orgs/{orgId}/resources/{resourceId}',
    summary: "Replace a resource's spec: the generation increments and a flow provisions it",
    tags: ['resources'],
    access: { kind: 'org', roles: adminRoles },
    params: resourceParams,
    body: z
      .object({
        spec: z
          .record(z.string(), z.unknown())
          .describe("The whole new spec: a DatabaseSpec or PipelineSpec, by the resource's kind"),
      })
      .strict(),
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, params, body, principal, requestId }) =>
      withOutboxTransaction(deps.db, async (tx) => {
        const current = await lockResource(tx, org.id, params.resourceId);
        if (current.phase === 'deprovisioning' || current.phase === 'deleted') {
          throw conflict(`the resource is ${current.phase}; its spec can no longer change`);
        }
        const parsed = specs[current.kind].safeParse(body.spec);
        // the spec's schema depends on the resource's kind, known only once it is read
        if (!parsed.success) throw validationError('body', parsed.error, ['spec']);
        if (parsed.data.secretRef) await assertSecretExists(tx, org.id, parsed.data.secretRef);
        const { rows } = await tx.query<ResourceRow>(
          `UPDATE resources SET spec = $2, generation = generation + 1, updated_at = now()
            WHERE id = $1 AND spec <> $2::jsonb RETURNING ${columns}`,
          [current.id, JSON.stringify(parsed.data)],
        );
        const row = rows[0];
        if (!row) return { resource: toResource(current), flowId: null };
        const flow = await startFlow(tx, {
          type: provisionResourceType,
          orgId: org.id,
          context: { resourceId: row.id, generation: row.generation },
          dedupeKey: `${provisionResourceType}:${row.id}:${row.generation}`,
        });
        // the flow of the previous generation, if still waiting, wakes up and steps aside
        await signalResourceFlows(tx, row.id);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'resource.updated',
          targetType: 'resource',
          targetId: row.id,
          data: { name: row.name, generation: row.generation },
          requestId,
        });
        return { resource: toResource(row), flowId: flow.id };
      }),
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}/resources/{resourceId}',
    summary: 'Deprovision a resource; the row stays with phase "deleted" once the data plane has removed it',
    tags: ['resources'],
    access: { kind: 'org', roles: adminRoles },
    params: resourceParams,
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, params, principal, requestId }) =>
      withOutboxTransaction(deps.db, async (tx) => {
        let row = await lockResource(tx, org.id, params.resourceId);
        if (row.phase !== 'deprovisioning' && row.phase !== 'deleted') {
          const { rows } = await tx.query<ResourceRow>(
            `UPDATE resources SET phase = 'deprovisioning', updated_at = now() WHERE id = $1 RETURNING ${columns}`,
            [row.id],
          );
          row = rows[0]!;
          await recordAudit(tx, principal, {
            orgId: org.id,
            action: 'resource.deprovision_requested',
            targetType: 'resource',
            targetId: row.id,
            data: { name: row.name, generation: row.generation },
            requestId,
          });
        }
        // asked twice, the same flow answers
        const flow = await startFlow(tx, {
          type: deprovisionResourceType,
          orgId: org.id,
          context: { resourceId: row.id },
          dedupeKey: `${deprovisionResourceType}:${row.id}`,
        });
        await signalResourceFlows(tx, row.id);
        return { resource: toResource(row), flowId: flow.id };
      }),
  });
}
