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
  /** Re-sends made after internal apply errors so far. */
  internalRetries?: number;
  /** The support id of the internal error the last re-send answered: that error is dealt with. */
  retriedError?: string;
  /** When the next re-send is due (flow clock). */
  retryAt?: string;
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

/**
 * Waits until no resource of `unconfirmed` is left (the agents confirmed a change of many
 * resources), woken by the first one's reports, or until the deadline fixed on the flow clock at
 * the first wait: `'confirmed'`, `'timed-out'` (logged with what was left), or the wait itself.
 */
export async function waitForAgents<C extends FlowContext & { deadline?: string }>(
  ctx: StepContext<C>,
  unconfirmed: readonly string[],
  timeoutMs: number,
  what: string,
): Promise<'confirmed' | 'timed-out' | StepOutcome<C>> {
  if (unconfirmed.length === 0) return 'confirmed';
  const now = (await ctx.now()).getTime();
  const deadline = ctx.context.deadline ? Date.parse(ctx.context.deadline) : now + timeoutMs;
  if (now >= deadline) {
    ctx.logger.warn({ unconfirmed }, `agents did not confirm ${what} in time`);
    return 'timed-out';
  }
  return {
    context: { deadline: new Date(deadline).toISOString() } as Partial<C>,
    wait: { signal: resourceSignal(unconfirmed[0]!), until: new Date(deadline) },
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
  /** Re-sends after `internal` apply errors before the flow fails; `customer` errors get none. */
  internalRetries?: number;
  /** Wait before the first re-send; doubles after each, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}): FlowDefinition<ProvisionResourceContext> {
  const maxRetries = options.internalRetries ?? 5;
  const retryDelay = (retries: number) =>
    Math.min(options.retryMaxMs ?? 60_000, (options.retryBaseMs ?? 1_000) * 2 ** retries);
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
            // the customer's to fix (a new spec or secret makes a new attempt): retrying blindly
            // would fail the same way
            await failResource(ctx, `customer error: ${error.message}`);
            throw new PermanentStepError(error.message);
          }
          if (!error && resource.observedGeneration >= context.generation) return;
          if (error && error.supportId !== context.retriedError) {
            // an internal error is ours: re-send the desired state after a backoff, a bounded number of times
            const retries = context.internalRetries ?? 0;
            if (retries >= maxRetries) {
              const message = `the data plane failed to apply generation ${context.generation} after ${retries} retries: ${error.message}`;
              await failResource(ctx, message, error);
              throw new PermanentStepError(message);
            }
            const now = (await ctx.now()).getTime();
            const retryAt = context.retryAt ? Date.parse(context.retryAt) : now + retryDelay(retries);
            if (now < retryAt) {
              return {
                context: { retryAt: new Date(retryAt).toISOString() },
                // a report meanwhile (the data plane recovered) is noticed at once
                wait: { signal: resourceSignal(context.resourceId), until: new Date(retryAt) },
              };
            }
            await ctx.once(`resync-${retries + 1}`, async (tx) => {
              await tx.query('SELECT outbox_resync($1)', [context.resourceId]);
            });
            // the wait for this attempt starts now: clear the deadline of the last one
            return {
              context: {
                internalRetries: retries + 1,
                retriedError: error.supportId,
                retryAt: undefined,
                deadline: undefined,
              },
              wait: { signal: resourceSignal(context.resourceId), until: new Date(now + options.timeoutMs) },
            };
          }
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
