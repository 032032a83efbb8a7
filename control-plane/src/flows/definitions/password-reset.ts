import type { Queryable } from '../../db/pool.ts';
import { messageRef, need, VendorMissingError, type Vendors } from '../../vendors/index.ts';
import { defineFlow, type FlowDefinition, PermanentStepError, type StepContext } from '../definition.ts';

export const passwordResetType = 'password-reset';

export interface PasswordResetContext extends Record<string, unknown> {
  userId: string;
  /** The request that asked for the reset, for support. */
  requestId?: string | null;
  /** Waits so far because a vendor throttled (429). */
  throttleWaits?: number;
  /** Past this instant (flow clock) a throttled send gives up: a late reset link is no use. */
  deadline?: string;
  /** Why no SMS went out (no phone, or SMS not configured). */
  smsSkipped?: string;
}

export interface PasswordResetOptions {
  vendors: Vendors;
  /** The customer-facing app: the ticket sends the user back to its login page. */
  appUrl: string;
  /** How long the link works. Default one hour. */
  ticketTtlS?: number;
  /** How long throttled sends keep trying, from the first attempt. Default ten minutes. */
  giveUpAfterMs?: number;
  /** First wait after a throttle that gave no Retry-After; doubles, up to `throttleMaxBackoffMs`. */
  throttleBackoffMs?: number;
  throttleMaxBackoffMs?: number;
}

interface Recipient {
  email: string | null;
  phone: string | null;
  subject: string;
}

async function loadRecipient(db: Queryable, userId: string): Promise<Recipient | undefined> {
  const { rows } = await db.query<Recipient>(
    'SELECT email, phone, subject FROM users WHERE id = $1 AND deleted_at IS NULL',
    [userId],
  );
  return rows[0];
}

/** A vendor's "slow down" answer, with how long it asked us to wait when it said so. */
export interface Throttled {
  retryAfterMs: number | undefined;
}

/**
 * Recognises a 429 from each vendor's SDK and reads its wait: `Retry-After` (seconds or a date), or
 * `X-RateLimit-Reset` (epoch seconds; SendGrid's and Auth0's). Twilio's SDK raises a
 * RestException without the response's headers, so its wait is unknown here (`undefined`) unless
 * the vendor wrapper attached `retryAfterMs` to the error.
 */
export function throttleOf(error: unknown, nowMs = Date.now()): Throttled | undefined {
  const e = error as {
    status?: number;
    statusCode?: number;
    code?: number | string;
    retryAfterMs?: number;
    response?: { headers?: unknown };
    rawResponse?: { headers?: unknown };
  };
  const status = e?.status ?? e?.statusCode ?? (typeof e?.code === 'number' ? e.code : undefined);
  if (status !== 429 && e?.code !== 20429) return undefined;
  if (typeof e.retryAfterMs === 'number') return { retryAfterMs: e.retryAfterMs };
  const header = (name: string): string | undefined => {
    const headers = e.rawResponse?.headers ?? e.response?.headers;
    if (!headers) return undefined;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, unknown>)[name];
    return value === undefined ? undefined : String(value);
  };
  const retryAfter = header('retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - nowMs;
    if (Number.isFinite(ms)) return { retryAfterMs: Math.max(0, ms) };
  }
  const reset = Number(header('x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return { retryAfterMs: Math.max(0, reset * 1000 - nowMs) };
  return { retryAfterMs: undefined };
}

/** An error carrying the HTTP status of an answer (SendGrid, Twilio, Auth0 SDKs): the call was refused. */
function answered(error: unknown): boolean {
  const e = error as { status?: unknown; statusCode?: unknown; code?: unknown };
  return [e?.status, e?.statusCode, e?.code].some((v) => typeof v === 'number' && v >= 400);
}

function emailOf(link: string, ttlS: number) {
  const minutes = Math.round(ttlS / 60);
  return {
    subject: 'Reset your Planewright password',
    text: `Someone asked to reset the password of your Planewright account. To choose a new one, open ${link} within ${minutes} minutes. If it was not you, ignore this email: your password stays as it is.`,
    html: `<p>Someone asked to reset the password of your Planewright account.</p><p><a href="${link}">Choose a new password</a> (the link works for ${minutes} minutes).</p><p>If it was not you, ignore this email: your password stays as it is.</p>`,
  };
}

// no link in the SMS: it tells the owner of the phone, who may not be the one asking, where the link
// went; the flow appends a reference (`messageRef`) by which a retry finds the message again
const smsBody =
  'Planewright: a password reset was requested for your account. The link was sent to your email. Not you? Ignore it; your password is unchanged.';

/**
 * Password reset: a password-change ticket from the auth provider, emailed as a link, and an SMS
 * notice to the user's phone when they have one. Both sends run at once (the SMS's 30 s objective
 * does not wait behind the email), each at most once (see `recordedSend`).
 */
export function passwordResetFlow(options: PasswordResetOptions): FlowDefinition<PasswordResetContext> {
  const ticketTtlS = options.ticketTtlS ?? 3_600;
  const giveUpAfterMs = options.giveUpAfterMs ?? 600_000;
  const backoffBaseMs = options.throttleBackoffMs ?? 1_000;
  const backoffMaxMs = options.throttleMaxBackoffMs ?? 8_000;
  const { vendors } = options;

  /**
   * Exactly once per flow, as far as the vendors let us know: a send is skipped when `flow_effects`
   * already records it (under `idempotencyKey(name)`, the key `once` uses), and recorded as soon as
   * the vendor accepted it. Before the vendor call an "attempting" marker (`<key>:attempt`, with
   * the database's time) is committed; a retry that finds the marker without the record does not
   * know whether the vendor took the message (a crash, or a lost INSERT or response, after the
   * call), so it looks the message up at the vendor first (`find`: by the key the message carries)
   * and records what it found instead of sending again. No transaction is held across the vendor
   * call (unlike `once`, which would keep a pooled connection for the whole call): the API's
   * requests need the pool, and a busy pool makes them open new Postgres connections (30–300 ms).
   * What remains: a lookup that misses a message the vendor did accept (SendGrid's activity feed
   * is eventually consistent, seconds to minutes behind a send; Twilio's list by date) sends a
   * second one; and two runners of one step at once (a zombie past its lease) can both send.
   */
  const recordedSend = async <T>(
    ctx: StepContext<PasswordResetContext>,
    name: string,
    send: () => Promise<T>,
    find: (attemptedAt: Date) => Promise<T | undefined>,
  ): Promise<T> => {
    const key = ctx.idempotencyKey(name);
    const record = (result: T) =>
      ctx.db.query(
        'INSERT INTO flow_effects (key, flow_id, step, result) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING',
        [key, ctx.flowId, ctx.step, JSON.stringify(result ?? null)],
      );
    const done = await ctx.db.query<{ result: T; attempt: boolean }>(
      'SELECT result, key <> $1 AS attempt FROM flow_effects WHERE key IN ($1, $2) ORDER BY key <> $1',
      [key, `${key}:attempt`],
    );
    const first = done.rows[0];
    if (first && !first.attempt) return first.result;
    if (first?.attempt) {
      // an attempt whose outcome is unknown: the vendor may have the message already
      const attemptedAt = new Date((first.result as { at: string }).at);
      const found = await find(attemptedAt);
      if (found !== undefined) {
        ctx.logger.warn(
          { effect: name },
          'the vendor already had the message of an unconfirmed attempt: not sent again',
        );
        await record(found);
        return found;
      }
    }
    await ctx.db.query(
      `INSERT INTO flow_effects (key, flow_id, step, result) VALUES ($1, $2, $3, jsonb_build_object('at', now()))
       ON CONFLICT (key) DO UPDATE SET result = excluded.result`,
      [`${key}:attempt`, ctx.flowId, ctx.step],
    );
    let result: T;
    try {
      result = await send();
    } catch (error) {
      // the vendor (or the auth provider, before the email) answered with an error: nothing went
      // out, so the next attempt needs no lookup
      if (answered(error)) await ctx.db.query('DELETE FROM flow_effects WHERE key = $1', [`${key}:attempt`]);
      throw error;
    }
    await record(result);
    return result;
  };

  const sendEmail = (ctx: StepContext<PasswordResetContext>, user: Recipient) =>
    recordedSend(
      ctx,
      'email',
      async () => {
        const email = need(vendors, 'email');
        const auth = need(vendors, 'auth');
        // the ticket is minted right before the email and lives nowhere else: a reset link is a
        // credential, so it is never stored in the flow's context, logs or spans
        const ticket = await auth.tickets.changePassword({
          user_id: user.subject,
          result_url: new URL('/login?reset=done', options.appUrl).toString(),
          ttl_sec: ticketTtlS,
        });
        if (!ticket.ticket) throw new Error('the auth provider answered without a ticket');
        await email.send({
          to: user.email!,
          ...emailOf(ticket.ticket, ticketTtlS),
          category: passwordResetType,
          idempotencyKey: ctx.idempotencyKey('email'),
        });
        return { sent: true } as { sent: boolean; found?: string };
      },
      async () => {
        const found = await need(vendors, 'email').findSent(ctx.idempotencyKey('email'), user.email!);
        return found ? { sent: true, found: found.id } : undefined;
      },
    );

  const sendSms = (ctx: StepContext<PasswordResetContext>, phone: string) => {
    const key = ctx.idempotencyKey('sms');
    const ref = messageRef(key);
    return recordedSend(
      ctx,
      'sms',
      async () => {
        const sent = await need(vendors, 'sms').send({
          to: phone,
          body: `${smsBody} ${ref}`,
          idempotencyKey: key,
        });
        return { sid: sent.sid };
      },
      async (attemptedAt) => {
        // a minute of slack for the clocks of the database and the vendor
        const since = new Date(attemptedAt.getTime() - 60_000);
        const found = await need(vendors, 'sms').findSent({ to: phone, marker: ref, since });
        return found ? { sid: found.id } : undefined;
      },
    );
  };

  return defineFlow<PasswordResetContext>({
    type: passwordResetType,
    steps: [
      {
        name: 'notify',
        async run(ctx) {
          const user = await loadRecipient(ctx.db, ctx.context.userId);
          // deleted since the request (or its email erased): nobody to tell
          if (!user?.email) return { context: { smsSkipped: 'the user no longer exists' } };
          let smsSkipped: string | undefined;
          if (!user.phone) smsSkipped = 'the user has no phone number';
          else if (!vendors.sms) smsSkipped = 'SMS is not configured (TWILIO_* settings)';
          const sends = [sendEmail(ctx, user), ...(smsSkipped ? [] : [sendSms(ctx, user.phone!)])];
          const results = await Promise.allSettled(sends);
          const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
          if (failures.length === 0) return smsSkipped ? { context: { smsSkipped } } : undefined;

          const missing = failures.find((f) => f instanceof VendorMissingError);
          if (missing) throw new PermanentStepError((missing as Error).message);
          const throttles = failures.map((f) => throttleOf(f));
          // anything but a throttle: the engine's backoff; what was sent is not sent again
          if (throttles.some((t) => t === undefined)) throw failures[throttles.indexOf(undefined)];

          // every failure was a 429: wait as long as the vendors asked, else back off with jitter
          const waits = ctx.context.throttleWaits ?? 0;
          const now = (await ctx.now()).getTime();
          const deadline = ctx.context.deadline ? Date.parse(ctx.context.deadline) : now + giveUpAfterMs;
          const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** waits);
          const delayMs = Math.max(
            ...throttles.map((t) => t!.retryAfterMs ?? ceiling / 2 + (Math.random() * ceiling) / 2),
          );
          if (now + delayMs > deadline) {
            throw new PermanentStepError(
              `the vendors kept throttling for ${giveUpAfterMs} ms (${waits} waits); ask for a new reset`,
            );
          }
          ctx.logger.info({ delayMs, waits: waits + 1 }, 'password reset throttled by a vendor');
          return {
            context: { throttleWaits: waits + 1, deadline: new Date(deadline).toISOString() },
            wait: { until: new Date(now + delayMs) },
          };
        },
      },
    ],
  });
}
