// The Stripe simulator's domain core, without HTTP. The HTTP layer (routes, server, index.ts)
// builds on these exports only.

// Test cards and randomness
export { declines, luhnValid, testCardNumber } from './cards.ts';
// Errors in Stripe's shape, with their HTTP status
export {
  apiError,
  cardError,
  idempotencyKeyInUse,
  idempotencyMismatch,
  invalidRequest,
  missingParam,
  noSuch,
  StripeError,
  type StripeErrorBody,
  type StripeErrorType,
} from './errors.ts';
export { typeMatches } from './events.ts';
// Requests: form bodies and idempotency keys
export { decodeForm } from './form.ts';
export {
  type BeginResult,
  createIdempotencyStore,
  fingerprint,
  type IdempotencyStore,
  type IdempotentRequest,
  type SavedResponse,
} from './idempotency.ts';
export { type Random, seededRandom } from './ids.ts';
export type * from './objects/types.ts';
export type { Params } from './params.ts';
// Webhooks: signing and the retry schedule (sending is the HTTP layer's)
export { signatureHeader, signPayload, webhookPayload } from './signature.ts';
// State: the in-memory Stripe account and its options
export { createStripeState, defaultApiVersion, type StripeState } from './state.ts';
export type { RequestContext, StripeStateOptions } from './store.ts';
export {
  type DeliveryResult,
  fastRetryPolicy,
  type RetryPolicy,
  retryDelayMs,
  stripeLiveRetryPolicy,
  type WebhookDelivery,
} from './webhook-delivery.ts';
