import { withTransaction } from '../../db/pool.ts';
import { ApiError } from '../../errors.ts';
import { startFlow } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

/** Test mode only: starts diagnostic flows whose effects crash tests and benchmarks count. */
export function registerAdminDiagnosticRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/admin/diagnostics/flows',
    summary: 'Start diagnostic flows (three steps, one counted effect each); test mode only',
    tags: ['admin'],
    access: { kind: 'admin' },
    body: z
      .object({
        count: z.number().int().min(1).max(1000),
        stepDelayMs: z.number().int().min(0).max(10_000).default(0),
        effects: z.boolean().default(true).describe('false: steps do nothing (engine benchmarks)'),
        notifyUrl: z.url().optional(),
      })
      .strict(),
    response: { status: 202, schema: z.object({ flowIds: z.array(z.uuid()) }) },
    handler: async ({ deps, body }) => {
      if (!deps.config.TEST_MODE)
        throw new ApiError(404, 'not_found', 'diagnostic flows exist only in test mode');
      return withTransaction(deps.db, async (tx) => {
        const flowIds: string[] = [];
        for (let i = 0; i < body.count; i++) {
          const context = {
            stepDelayMs: body.stepDelayMs,
            effects: body.effects,
            ...(body.notifyUrl ? { notifyUrl: body.notifyUrl } : {}),
          };
          flowIds.push((await startFlow(tx, { type: 'diagnostic', context })).id);
        }
        return { flowIds };
      });
    },
  });
}
