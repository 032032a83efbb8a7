import type { Response } from 'express';
import { type TokenBucketOptions, TokenBuckets } from '../../dataplane/rate-limit.ts';
import { ApiError } from '../../errors.ts';
import { passwordResetType } from '../../flows/definitions/password-reset.ts';
import { flowChannel } from '../../flows/start.ts';
import { currentTraceparent } from '../../telemetry/tracing.ts';
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

/** Per process, in memory, as the agent gateway's buckets. */
export const passwordResetLimits = {
  /** A few tries per address, then one every ten minutes: nobody's inbox is flooded. */
  perEmail: { ratePerSec: 1 / 600, burst: 3 },
  /** One client cannot walk through addresses quickly (the answers tell nothing anyway). */
  perIp: { ratePerSec: 2, burst: 120 },
} satisfies Record<string, TokenBucketOptions>;

const body = z
  .object({ email: z.email().max(254).describe('The account’s email address') })
  .strict()
  .openapi('PasswordResetRequest');

// the same answer whether or not an account uses the address: the API never tells which do
const accepted = {
  status: 'accepted',
  message: 'If an account uses this address, a link to choose a new password is on its way.',
} as const;
const acceptedSchema = z
  .object({ status: z.literal('accepted'), message: z.string() })
  .openapi('PasswordResetAccepted');

/**
 * Starts one flow per live user with the address, in one statement: one round trip and one
 * implicit transaction, whatever the address, so the answer is as fast for an unknown address as
 * for a known one (fewer round trips also means fewer waits for a busy CPU: the API's p99 must stay
 * under 100 ms). It writes what `startFlow` writes (flows row with the request's traceparent, then
 * NOTIFY), which it cannot do in one statement. `synchronous_commit` off: the COMMIT does not wait
 * for the WAL flush (20–200 ms on a busy disk, and only known addresses write). A Postgres crash
 * within a fraction of a second may then lose an accepted reset, and the user asks again; the flow
 * still commits with the request or not at all.
 */
const startResetsSql = `
  WITH quick AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
  target AS (
    SELECT id FROM users WHERE lower(email) = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 5
  ),
  started AS (
    INSERT INTO flows (type, context, traceparent)
    SELECT $2, jsonb_build_object('userId', id, 'requestId', $3::text), $4 FROM target
    RETURNING id
  )
  SELECT (SELECT setting FROM quick) AS setting, count(*)::int AS started,
         CASE WHEN count(*) > 0 THEN pg_notify($5, 'start') END AS notified
    FROM started`;

function refuse(res: Response, bucket: TokenBuckets, key: string, what: string): void {
  const taken = bucket.take(key);
  if (taken.ok) return;
  res.setHeader('Retry-After', String(taken.retryAfterSeconds));
  throw new ApiError(429, 'rate_limited', `${what}; retry after ${taken.retryAfterSeconds} s`, {
    retryAfterSeconds: taken.retryAfterSeconds,
  });
}

export function registerPasswordResetRoutes(api: Api): void {
  const perEmail = new TokenBuckets(passwordResetLimits.perEmail);
  const perIp = new TokenBuckets(passwordResetLimits.perIp);

  api.route({
    method: 'post',
    path: '/v1/password-resets',
    summary: 'Ask for a password reset link (public; the same answer whether or not the address is known)',
    tags: ['users'],
    access: { kind: 'public' },
    body,
    response: { status: 202, schema: acceptedSchema },
    otherResponses: {
      429: 'Too many resets for this address or from this client: retry after `Retry-After` seconds',
    },
    handler: async ({ req, res, deps, body, requestId }) => {
      refuse(
        res,
        perIp,
        req.ip ?? req.socket.remoteAddress ?? 'unknown',
        'too many password resets from this client',
      );
      const email = body.email.trim().toLowerCase();
      refuse(res, perEmail, email, 'too many password resets for this address');
      await deps.db.query(startResetsSql, [
        email,
        passwordResetType,
        requestId,
        currentTraceparent() ?? null,
        flowChannel,
      ]);
      return accepted;
    },
  });
}
