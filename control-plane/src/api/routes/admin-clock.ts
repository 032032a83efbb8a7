import { ApiError } from '../../errors.ts';
import { flowChannel } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

const clock = z.object({ now: z.iso.datetime(), offsetMs: z.number().int() }).openapi('Clock');

async function readClock(api: Api) {
  const { rows } = await api.deps.db.query<{ now: Date; offset_ms: number }>(
    'SELECT clock_now() AS now, offset_ms FROM clock',
  );
  return { now: rows[0]!.now.toISOString(), offsetMs: rows[0]!.offset_ms };
}

/** The flow clock: timers (grace periods, trials, invitation expiry) read it; test mode moves it forward. */
export function registerAdminClockRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/admin/clock',
    summary: "Read the control plane's clock",
    tags: ['admin'],
    access: { kind: 'admin' },
    response: { status: 200, schema: clock },
    handler: () => readClock(api),
  });

  api.route({
    method: 'post',
    path: '/v1/admin/clock',
    summary: 'Move the clock forward (test mode only); due timers fire at once',
    tags: ['admin'],
    access: { kind: 'admin' },
    body: z
      .object({
        advanceMs: z
          .number()
          .int()
          .min(1)
          .max(10 * 365 * 24 * 3600 * 1000),
      })
      .strict()
      .describe('Time only moves forward, so no timer that already fired can fire again'),
    response: { status: 200, schema: clock },
    handler: async ({ deps, body }) => {
      if (!deps.config.TEST_MODE) {
        throw new ApiError(404, 'not_found', 'the clock can only be moved in test mode (TEST_MODE=true)');
      }
      await deps.db.query('UPDATE clock SET offset_ms = offset_ms + $1', [body.advanceMs]);
      await deps.db.query('SELECT pg_notify($1, $2)', [flowChannel, 'clock']);
      return readClock(api);
    },
  });
}
