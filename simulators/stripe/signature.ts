import { createHmac } from 'node:crypto';

/**
 * The `Stripe-Signature` header for a webhook body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "t.body" keyed by the endpoint secret>`, which `stripe.webhooks.constructEvent` verifies.
 *
 * @example signatureHeader('whsec_abc', '{"id":"evt_1"}', 1_700_000_000)
 *   // 't=1700000000,v1=5c4f…'
 */
export function signatureHeader(secret: string, payload: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${signPayload(secret, payload, timestampSeconds)}`;
}

/** The hex `v1` signature alone. */
export function signPayload(secret: string, payload: string, timestampSeconds: number): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
}

/**
 * The body Stripe posts for an event: the event as JSON, pretty-printed as Stripe sends it. The
 * signature covers these exact bytes, so the sender must send this string unchanged.
 */
export const webhookPayload = (event: object) => JSON.stringify(event, null, 2);
