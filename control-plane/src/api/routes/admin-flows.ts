import { withTransaction } from '../../db/pool.ts';
import { conflict, notFound } from '../../errors.ts';
import { flowStates } from '../../flows/definition.ts';
import { flowChannel, flowDoneChannel } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

const flowState = z.enum(flowStates as [string, ...string[]]);

const flowSummary = z
  .object({
    id: z.uuid(),
    type: z.string(),
    state: flowState,
    orgId: z.uuid().nullable(),
    currentStep: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    stateChangedAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .openapi('FlowSummary');

const flowStep = z
  .object({
    step: z.string(),
    attempt: z.number().int(),
    worker: z.string(),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    durationMs: z.number().nullable(),
    outcome: z.enum(['succeeded', 'failed', 'waiting', 'abandoned']).nullable(),
    error: z.string().nullable(),
  })
  .openapi('FlowStep');

const flowDetail = flowSummary
  .extend({
    context: z.record(z.string(), z.unknown()),
    traceparent: z.string().nullable(),
    waitingFor: z.string().nullable(),
    nextRunAt: z.string().nullable().describe('When the flow runs next; null when it is not scheduled'),
    steps: z.array(flowStep),
  })
  .openapi('Flow');

interface FlowRow {
  id: string;
  type: string;
  state: string;
  org_id: string | null;
  step_index: number;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  state_changed_at: Date;
  completed_at: Date | null;
  context: Record<string, unknown>;
  traceparent: string | null;
  wait_for: string | null;
  next_run_at: Date | string;
}

const flowParams = z.object({ flowId: z.uuid() });
const columns = `id, type, state, org_id, step_index, attempts, last_error, created_at, state_changed_at, completed_at,
  context, traceparent, wait_for, next_run_at::text AS next_run_at`;

export function registerAdminFlowRoutes(api: Api): void {
  const summary = (row: FlowRow) => ({
    id: row.id,
    type: row.type,
    state: row.state,
    orgId: row.org_id,
    currentStep: ['succeeded', 'cancelled'].includes(row.state)
      ? null
      : (api.deps.flows.stepName(row.type, row.step_index) ?? null),
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    stateChangedAt: row.state_changed_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  });

  api.route({
    method: 'get',
    path: '/v1/admin/flows',
    summary: 'List flows by type, state, organization and age in their state ("stuck in X for more than T")',
    tags: ['admin'],
    access: { kind: 'admin' },
    query: z
      .object({
        type: z.string().max(100).optional(),
        state: flowState.optional(),
        orgId: z.uuid().optional(),
        inStateForMs: z.coerce
          .number()
          .int()
          .min(0)
          .optional()
          .describe('Only flows in their state at least this long'),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      })
      .strict(),
    response: { status: 200, schema: z.object({ data: z.array(flowSummary) }) },
    handler: async ({ deps, query }) => {
      const { rows } = await deps.db.query<FlowRow>(
        `SELECT ${columns} FROM flows
          WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR state = $2) AND ($3::uuid IS NULL OR org_id = $3)
            AND ($4::float8 IS NULL OR state_changed_at <= now() - make_interval(secs => $4 / 1000.0))
          ORDER BY state_changed_at LIMIT $5`,
        [
          query.type ?? null,
          query.state ?? null,
          query.orgId ?? null,
          query.inStateForMs ?? null,
          query.limit,
        ],
      );
      return { data: rows.map(summary) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/admin/flows/{flowId}',
    summary: 'One flow with its context and the history of every step attempt',
    tags: ['admin'],
    access: { kind: 'admin' },
    params: flowParams,
    response: { status: 200, schema: flowDetail },
    handler: async ({ deps, params }) => {
      const { rows } = await deps.db.query<FlowRow>(`SELECT ${columns} FROM flows WHERE id = $1`, [
        params.flowId,
      ]);
      const row = rows[0];
      if (!row) throw notFound('flow');
      const steps = await deps.db.query<{
        step: string;
        attempt: number;
        worker: string;
        started_at: Date;
        ended_at: Date | null;
        outcome: 'succeeded' | 'failed' | 'waiting' | 'abandoned' | null;
        error: string | null;
      }>(
        'SELECT step, attempt, worker, started_at, ended_at, outcome, error FROM flow_steps WHERE flow_id = $1 ORDER BY id',
        [row.id],
      );
      const scheduled =
        ['pending', 'waiting', 'running'].includes(row.state) && row.next_run_at !== 'infinity';
      return {
        ...summary(row),
        context: row.context,
        traceparent: row.traceparent,
        waitingFor: row.state === 'waiting' ? row.wait_for : null,
        nextRunAt: scheduled ? new Date(row.next_run_at).toISOString() : null,
        steps: steps.rows.map((step) => ({
          step: step.step,
          attempt: step.attempt,
          worker: step.worker,
          startedAt: step.started_at.toISOString(),
          endedAt: step.ended_at?.toISOString() ?? null,
          durationMs: step.ended_at ? step.ended_at.getTime() - step.started_at.getTime() : null,
          outcome: step.outcome,
          error: step.error,
        })),
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/admin/flows/{flowId}/retry',
    summary: 'Run a failed or cancelled flow again from the step where it stopped',
    tags: ['admin'],
    access: { kind: 'admin' },
    params: flowParams,
    response: { status: 202, schema: flowSummary },
    handler: async ({ deps, params }) =>
      withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<FlowRow>(
          `UPDATE flows SET state = 'pending', attempts = 0, next_run_at = now(), completed_at = NULL,
                  state_changed_at = now(), updated_at = now()
            WHERE id = $1 AND state IN ('failed', 'cancelled') RETURNING ${columns}`,
          [params.flowId],
        );
        if (!rows[0])
          throw await stateConflict(tx, params.flowId, 'only a failed or cancelled flow can be retried');
        await tx.query('SELECT pg_notify($1, $2)', [flowChannel, 'retry']);
        return summary(rows[0]);
      }),
  });

  api.route({
    method: 'post',
    path: '/v1/admin/flows/{flowId}/cancel',
    summary: 'Cancel an unfinished flow; a step running now finishes but its result is dropped',
    tags: ['admin'],
    access: { kind: 'admin' },
    params: flowParams,
    response: { status: 200, schema: flowSummary },
    handler: async ({ deps, params }) =>
      withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<FlowRow>(
          `UPDATE flows SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, completed_at = now(),
                  state_changed_at = now(), updated_at = now()
            WHERE id = $1 AND state IN ('pending', 'running', 'waiting') RETURNING ${columns}`,
          [params.flowId],
        );
        if (!rows[0]) throw await stateConflict(tx, params.flowId, 'the flow has already finished');
        await tx.query('SELECT pg_notify($1, $2)', [flowDoneChannel, params.flowId]);
        return summary(rows[0]);
      }),
  });
}

async function stateConflict(
  tx: { query: (text: string, values: unknown[]) => Promise<{ rows: { state: string }[] }> },
  id: string,
  message: string,
) {
  const { rows } = await tx.query('SELECT state FROM flows WHERE id = $1', [id]);
  return rows[0] ? conflict(`${message} (it is ${rows[0].state})`) : notFound('flow');
}
