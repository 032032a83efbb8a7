// Stripe's own answers for the kit's faults, unknown routes and unreadable bodies, so that an
// injected failure reaches the official SDK as the real one would: `StripeAPIError` for a 500,
// `StripeRateLimitError` for a throttle, `StripeCardError` for a 402.
import type { VendorResponse, VendorResponses } from '../kit/index.ts';

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;

// Stripe's messages for the failures the kit injects
const messages = {
  api: 'An unknown error occurred. Please try again later, or contact Stripe support if the problem persists.',
  rateLimit:
    'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
  lockTimeout:
    'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.',
  unavailable: 'Stripe is temporarily unavailable. Please try again later.',
};

function stripeError(status: number, body: Record<string, unknown>, headers?: Record<string, string>) {
  return { status, body: { error: body }, ...(headers ? { headers } : {}) } satisfies VendorResponse;
}

/**
 * The error object Stripe sends with `status`. A 429 that is not a throttle is Stripe's other 429,
 * `lock_timeout`, which it asks clients to retry; a 402 is a generic card decline.
 */
export function errorFor(status: number, message: string): VendorResponse {
  if (status === 402) {
    return stripeError(402, {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      doc_url: docUrl('card_declined'),
    });
  }
  if (status === 429) {
    return stripeError(
      429,
      {
        type: 'invalid_request_error',
        code: 'lock_timeout',
        message: messages.lockTimeout,
        doc_url: docUrl('lock_timeout'),
      },
      { 'stripe-should-retry': 'true' },
    );
  }
  if (status >= 500) return stripeError(status, { type: 'api_error', message: messages.api });
  // the kit's own messages (an unknown route, an unreadable body) say what was wrong
  return stripeError(status, { type: 'invalid_request_error', message });
}

export const stripeVendor: VendorResponses = {
  error: (status, message) => errorFor(status, message),
  // Stripe names the limiter in Stripe-Rate-Limited-Reason; Retry-After is the kit's, for clients that honour it
  throttle: (_req, { retryAfterS }) =>
    stripeError(
      429,
      {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: messages.rateLimit,
        doc_url: docUrl('rate_limit'),
      },
      { 'stripe-rate-limited-reason': 'global-rate', 'retry-after': String(retryAfterS) },
    ),
  outage: (_req, { status, retryAfterS }) =>
    stripeError(
      status,
      { type: 'api_error', message: messages.unavailable },
      { 'retry-after': String(retryAfterS) },
    ),
};
