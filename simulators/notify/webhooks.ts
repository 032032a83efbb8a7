// Delivery-status webhooks in the vendors' shapes: SendGrid's Event Webhook (a JSON array of
// events, custom args as top-level keys) and Twilio's status callback (a form POST signed with
// `X-Twilio-Signature`, which the `twilio` package's `validateRequest` accepts). A receiver that
// fails (non-2xx, no answer) is retried with doubling backoff, as the vendors retry.
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { postOutbound } from '../kit/index.ts';
import type { NotifyMessage } from './messages.ts';

export type SendgridEventName = 'processed' | 'delivered' | 'bounce' | 'dropped';

/** One SendGrid event for one recipient's copy. */
export function sendgridEvent(message: NotifyMessage, event: SendgridEventName, atMs: number) {
  const vendor = message.vendor as { customArgs?: Record<string, unknown>; categories?: string[] };
  return {
    // custom args first: SendGrid's own fields win where a custom arg shares their name
    ...vendor.customArgs,
    email: message.to,
    timestamp: Math.floor(atMs / 1000),
    'smtp-id': `<${message.id.split('.')[0]}@notify.planewright.test>`,
    event,
    sg_event_id: randomBytes(16).toString('base64url'),
    sg_message_id: message.id,
    ...(vendor.categories?.length ? { category: vendor.categories } : {}),
    ...(event === 'delivered' ? { response: '250 OK', tls: 1 } : {}),
    ...(event === 'bounce'
      ? {
          reason: message.error?.reason,
          status: '5.1.1',
          type: 'bounce',
          bounce_classification: 'Invalid Address',
        }
      : {}),
    ...(event === 'dropped' ? { reason: message.error?.reason } : {}),
  };
}

/** The form fields of Twilio's status callback, in the order Twilio sends them. */
export function twilioStatusParams(message: NotifyMessage): Record<string, string> {
  const vendor = message.vendor as { accountSid: string; messagingServiceSid?: string | null };
  return {
    SmsSid: message.id,
    SmsStatus: message.status,
    MessageStatus: message.status,
    To: message.to,
    ...(vendor.messagingServiceSid ? { MessagingServiceSid: vendor.messagingServiceSid } : {}),
    MessageSid: message.id,
    AccountSid: vendor.accountSid,
    From: message.from,
    ApiVersion: '2010-04-01',
    ...(message.error ? { ErrorCode: String(message.error.code) } : {}),
  };
}

/** Twilio's request signature: base64 HMAC-SHA1 of the URL and the sorted parameters, keyed by the auth token. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data).digest('base64');
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

/**
 * POSTs until a 2xx answer or the attempts run out; reports every attempt. Never throws: a
 * webhook that cannot be delivered is the receiver's failure, recorded, not the simulator's.
 * Only to loopback unless `allowExternal` (the `allowExternalWebhooks` option); a redirect is not
 * followed (it is a failed attempt); `signal` (the simulator stopping) ends the attempt in flight
 * and the retries, so stop() is not held up by a receiver that does not answer.
 */
export async function postWithRetry(options: {
  url: string;
  body: string;
  headers: Record<string, string>;
  policy: RetryPolicy;
  signal: AbortSignal;
  allowExternal: boolean;
  report: (attempt: number, status: number | null, error: string | null) => void;
}): Promise<boolean> {
  const { url, body, headers, policy, signal, report } = options;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (signal.aborted) return false;
    const result = await postOutbound(
      url,
      { method: 'POST', headers, body },
      { signal, timeoutMs: policy.timeoutMs, allowExternal: options.allowExternal },
    );
    report(attempt, result.status ?? null, result.ok ? null : (result.error ?? null));
    if (result.ok) return true;
    // a URL that may not be sent to will not become one by waiting
    if (result.blocked) return false;
    // no retries once the simulator stops: `signal` ends the wait
    if (attempt < policy.attempts) {
      const waited = await sleep(policy.backoffMs * 2 ** (attempt - 1), true, { signal }).catch(() => false);
      if (!waited) return false;
    }
  }
  return false;
}
