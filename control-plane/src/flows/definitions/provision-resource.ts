import { recordAudit } from '../../audit.ts';
import {
  type ResourceProgress,
  readResourceProgress,
  resourceSignal,
  type StoredResourceError,
} from '../../dataplane/status.ts';
import type { Queryable } from '../../db/pool.ts';
import {
  defineFlow,
  type FlowContext,
  type FlowDefinition,
  PermanentStepError,
  type StepContext,
  type StepOutcome,
} from '../definition.ts';

export const provisionResourceType = 'provision-resource';

export interface ProvisionResourceContext extends Record<string, unknown> {
  resourceId: string;
  /** The generation of the spec this flow brings to the data plane. */
  generation: number;
  /** Set when a newer generation or a deletion took the resource over: the remaining steps do nothing. */
  superseded?: string;
  deadline?: string;
}

/** Context of a step that waits for the data plane. */
export interface DataPlaneWaitContext extends FlowContext {
  resourceId: string;
  /** Fixed at the first wait (flow clock): past it, the step gives up. */
  deadline?: string;
}

/**
 * Waits for the data plane: the step runs again when `resource:<id>` is signalled (a status
 * report; the engine does not let a report that lands while the step runs go unnoticed), or at
 * the deadline, fixed on the flow clock at the first wait.
 */
export async function waitForDataPlane<C extends DataPlaneWaitContext>(
  ctx: StepContext<C>,
  timeoutMs: number,
): Promise<StepOutcome<C> | 'timed-out'> {
  const now = (await ctx.now()).getTime();
  const deadline = ctx.context.deadline ? Date.parse(ctx.context.deadline) : now + timeoutMs;
  if (now >= deadline) return 'timed-out';
  return {
    context: { deadline: new Date(deadline).toISOString() } as Partial<C>,
    wait: { signal: resourceSignal(ctx.context.resourceId), until: new Date(deadline) },
  };
}

/** Reads the resource; only a hard delete (its organization purged) makes it disappear. */
export async function loadResource(db: Queryable, resourceId: string): Promise<ResourceProgress> {
  const resource = await readResourceProgress(db, resourceId);
  if (!resource) throw new PermanentStepError(`resource ${resourceId} no longer exists`);
  return resource;
}

function supersededBy(resource: ResourceProgress, generation: number): string | undefined {
  if (resource.deleted || resource.phase === 'deprovisioning' || resource.phase === 'deleted') {
    return 'the resource is being deleted';
  }
  if (resource.generation > generation) return `generation ${resource.generation} replaced it`;
  return undefined;
}

/** Marks this generation failed (unless something newer took over) and audits why. */
async function failResource(
  ctx: StepContext<ProvisionResourceContext>,
  reason: string,
  lastError?: StoredResourceError,
): Promise<void> {
  const { resourceId, generation } = ctx.context;
  await ctx.once('fail', async (tx) => {
    const { rows } = await tx.query<{ org_id: string }>(
      `UPDATE resources SET phase = 'failed', last_error = COALESCE($3::jsonb, last_error), updated_at = now()
        WHERE id = $1 AND generation = $2 AND phase IN ('pending', 'provisioning') RETURNING org_id`,
      [resourceId, generation, lastError ? JSON.stringify(lastError) : null],
    );
    if (!rows[0]) return;
    await recordAudit(
      tx,
      { type: 'flow', flowId: ctx.flowId },
      {
        orgId: rows[0].org_id,
        action: 'resource.failed',
        targetType: 'resource',
        targetId: resourceId,
        data: { generation, reason },
      },
    );
  });
}

/**
 * Provision resource: brings one generation of a resource's spec to the data plane, then marks it
 * ready. One flow per generation; an older one steps aside when a newer change or a deletion arrives.
 */
export function provisionResourceFlow(options: {
  timeoutMs: number;
}): FlowDefinition<ProvisionResourceContext> {
  return defineFlow<ProvisionResourceContext>({
    type: provisionResourceType,
    steps: [
      {
        name: 'place',
        async run(ctx) {
          const resource = await loadResource(ctx.db, ctx.context.resourceId);
          const superseded = supersededBy(resource, ctx.context.generation);
          if (superseded) return { context: { superseded } };
          const cell = await ctx.db.query('SELECT 1 FROM cells WHERE id = $1', [resource.cellId]);
          if (!cell.rows[0]) {
            const reason = `cell "${resource.cellId}" no longer exists; the operator must restore it or move the resource`;
            await failResource(ctx, reason);
            throw new PermanentStepError(reason);
          }
        },
      },
      {
        name: 'publish',
        async run({ db, context }) {
          if (context.superseded) return;
          // the new generation is now the desired state the cell's agent receives
          await db.query(
            `UPDATE resources SET phase = 'provisioning', updated_at = now()
              WHERE id = $1 AND generation = $2 AND phase IN ('pending', 'ready', 'failed')`,
            [context.resourceId, context.generation],
          );
        },
      },
      {
        name: 'await-ready',
        async run(ctx) {
          const { context } = ctx;
          if (context.superseded) return;
          const resource = await loadResource(ctx.db, context.resourceId);
          const superseded = supersededBy(resource, context.generation);
          if (superseded) return { context: { superseded } };
          const error =
            resource.lastError && resource.lastError.generation >= context.generation
              ? resource.lastError
              : null;
          if (error?.class === 'customer') {
            await failResource(ctx, `customer error: ${error.message}`);
            throw new PermanentStepError(error.message);
          }
          // an internal error is the agent's to retry: keep waiting until it reports success
          if (!error && resource.observedGeneration >= context.generation) return;
          const next = await waitForDataPlane(ctx, options.timeoutMs);
          if (next !== 'timed-out') return next;
          const message = `the data plane did not confirm generation ${context.generation} within ${options.timeoutMs} ms`;
          await failResource(
            ctx,
            message,
            error ?? {
              class: 'internal',
              message,
              supportId: `flow_${ctx.flowId}`,
              generation: context.generation,
              at: new Date().toISOString(),
            },
          );
          throw new PermanentStepError(message);
        },
      },
      {
        name: 'ready',
        async run({ context, once, flowId }) {
          if (context.superseded) return;
          await once('ready', async (tx) => {
            const { rows } = await tx.query<{ org_id: string }>(
              `UPDATE resources SET phase = 'ready', updated_at = now()
                WHERE id = $1 AND generation = $2 AND phase IN ('pending', 'provisioning') RETURNING org_id`,
              [context.resourceId, context.generation],
            );
            if (!rows[0]) return;
            await recordAudit(
              tx,
              { type: 'flow', flowId },
              {
                orgId: rows[0].org_id,
                action: 'resource.ready',
                targetType: 'resource',
                targetId: context.resourceId,
                data: { generation: context.generation },
              },
            );
          });
        },
      },
    ],
  });
}
