// The operator's view of the data plane (issue 5, item 9): the reconciler's findings (drift,
// stuck resources) and what it did about them, the agents and which are stale, and a way to run a
// reconciler pass now.
import type { Api } from '../api/route.ts';
import { z } from '../api/zod.ts';
import {
  countReconcilePass,
  listAgents,
  listFindings,
  reconcileOnce,
  reconcileOptions,
} from './reconciler.ts';

const finding = z
  .object({
    resourceId: z.uuid(),
    orgId: z.uuid(),
    cell: z.string().nullable(),
    kind: z.enum(['drift', 'stuck']),
    state: z
      .enum(['converging', 'unresolved'])
      .describe('unresolved: re-sending did not help; a human must look'),
    detectedAt: z.string(),
    resyncs: z.number().int().describe('Times the desired state was re-sent'),
    lastResyncAt: z.string().optional(),
    generation: z.number().int(),
    observedGeneration: z.number().int(),
  })
  .openapi('ReconcileFinding');

const agentView = z
  .object({
    agentId: z.uuid(),
    name: z.string(),
    cell: z.string(),
    registeredAt: z.iso.datetime(),
    lastSeenAt: z.iso.datetime().nullable(),
    appliedSequence: z.number().int().nullable(),
    stale: z.boolean().describe('No heartbeat within RECONCILE_STALE_AGENT_MS'),
  })
  .openapi('AgentView');

const reconcilerView = z
  .object({
    findings: z.array(finding),
    staleAgents: z.array(agentView),
  })
  .openapi('ReconcilerView');

export function registerDataPlaneAdminRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/admin/reconciler',
    summary: "The reconciler's findings (drifted and stuck resources) and the stale agents",
    tags: ['admin', 'agents'],
    access: { kind: 'admin' },
    response: { status: 200, schema: reconcilerView },
    handler: async ({ deps }) => ({
      findings: await listFindings(deps.db),
      staleAgents: await listAgents(deps.db, {
        staleAfterMs: deps.config.RECONCILE_STALE_AGENT_MS,
        staleOnly: true,
      }),
    }),
  });

  api.route({
    method: 'post',
    path: '/v1/admin/reconciler/run',
    summary: 'Run a reconciler pass now: detect stuck resources, re-send due findings, mark unresolved ones',
    tags: ['admin', 'agents'],
    access: { kind: 'admin' },
    body: z.object({}).strict(),
    response: {
      status: 200,
      schema: z.object({
        stuckDetected: z.array(z.uuid()),
        resynced: z.array(z.object({ resourceId: z.uuid(), kind: z.enum(['drift', 'stuck']) })),
        unresolved: z.array(z.object({ resourceId: z.uuid(), kind: z.enum(['drift', 'stuck']) })),
      }),
    },
    handler: async ({ deps }) => {
      const result = await reconcileOnce(deps.db, reconcileOptions(deps.config));
      countReconcilePass(deps.metrics, result);
      return result;
    },
  });

  api.route({
    method: 'get',
    path: '/v1/admin/agents',
    summary: 'Registered agents (not revoked), stale ones first',
    tags: ['admin', 'agents'],
    access: { kind: 'admin' },
    query: z.object({
      cell: z
        .string()
        .max(63)
        .regex(/^[a-z0-9-]+$/, 'a cell id such as "cell-1"')
        .optional(),
      stale: z.enum(['true', 'false']).optional().describe('true: only stale agents'),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    response: { status: 200, schema: z.object({ agents: z.array(agentView) }) },
    handler: async ({ deps, query }) => ({
      agents: await listAgents(deps.db, {
        staleAfterMs: deps.config.RECONCILE_STALE_AGENT_MS,
        cell: query.cell,
        staleOnly: query.stale === 'true',
        limit: query.limit,
      }),
    }),
  });
}
