import { recordAudit } from '../../audit.ts';
import { withOutboxTransaction } from '../../dataplane/traceparent.ts';
import { defineFlow, type FlowDefinition, PermanentStepError } from '../definition.ts';
import { loadResource, waitForDataPlane } from './provision-resource.ts';

export const deprovisionResourceType = 'deprovision-resource';

export interface DeprovisionResourceContext extends Record<string, unknown> {
  resourceId: string;
  deadline?: string;
}

/**
 * Deprovision resource: asks the data plane to remove the resource, waits until it reports it gone,
 * then marks the row deleted. The row stays (phase `deleted`, `deleted_at` set) so the audit log and
 * the customer's history keep pointing at something.
 */
export function deprovisionResourceFlow(options: {
  timeoutMs: number;
}): FlowDefinition<DeprovisionResourceContext> {
  return defineFlow<DeprovisionResourceContext>({
    type: deprovisionResourceType,
    steps: [
      {
        name: 'publish',
        async run({ db, context }) {
          // the event agents receive joins this flow's trace
          await withOutboxTransaction(db, (tx) =>
            tx.query(
              `UPDATE resources SET phase = 'deprovisioning', updated_at = now()
                WHERE id = $1 AND deleted_at IS NULL AND phase <> 'deprovisioning'`,
              [context.resourceId],
            ),
          );
        },
      },
      {
        name: 'await-gone',
        async run(ctx) {
          const resource = await loadResource(ctx.db, ctx.context.resourceId);
          if (resource.deleted) return;
          if (resource.status.deleted === true || resource.status.phase === 'deleted') return;
          const next = await waitForDataPlane(ctx, options.timeoutMs);
          if (next !== 'timed-out') return next;
          throw new PermanentStepError(
            `the data plane did not confirm the removal of "${resource.name}" within ${options.timeoutMs} ms; ` +
              `retry this flow once cell ${resource.cellId}'s agent reports again`,
          );
        },
      },
      {
        name: 'finalize',
        async run({ context, once, flowId }) {
          await once('finalize', async (tx) => {
            const { rows } = await tx.query<{ org_id: string; name: string; generation: number }>(
              `UPDATE resources SET phase = 'deleted', deleted_at = now(), updated_at = now()
                WHERE id = $1 AND deleted_at IS NULL RETURNING org_id, name, generation`,
              [context.resourceId],
            );
            if (!rows[0]) return;
            await recordAudit(
              tx,
              { type: 'flow', flowId },
              {
                orgId: rows[0].org_id,
                action: 'resource.deleted',
                targetType: 'resource',
                targetId: context.resourceId,
                data: { name: rows[0].name, generation: rows[0].generation },
              },
            );
          });
        },
      },
    ],
  });
}
