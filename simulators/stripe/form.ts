import qs from 'qs';
import { invalidRequest } from './errors.ts';
import type { Params } from './params.ts';

// Bounds: a request body is client input, and a deep or huge one must not cost us more than it
// costs the client. Stripe nests at most a few levels (`items[0][price_data][recurring][interval]`).
const maxDepth = 8;
const maxParameters = 2_000;
// Indices above this stay object keys; `readList` turns numeric-keyed objects back into lists.
const maxArrayIndex = 1_000;

/**
 * Decodes Stripe's form encoding (a body or a query string) into nested params:
 * `items[0][price]=price_1&metadata[plan]=pro&expand[]=latest_invoice` becomes
 * `{ items: [{ price: 'price_1' }], metadata: { plan: 'pro' }, expand: ['latest_invoice'] }`.
 *
 * @example decodeForm('metadata[plan]=pro') // { metadata: { plan: 'pro' } }
 */
export function decodeForm(body: string | Buffer | undefined): Params {
  const text = body === undefined ? '' : typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return qs.parse(text.startsWith('?') ? text.slice(1) : text, {
      depth: maxDepth,
      strictDepth: true,
      parameterLimit: maxParameters,
      throwOnLimitExceeded: true,
      arrayLimit: maxArrayIndex,
      allowPrototypes: false,
      // `a=1&a=2` keeps the last value, as a form field set twice would in Stripe
      duplicates: 'last',
    }) as Params;
  } catch (error) {
    throw invalidRequest(
      `Invalid request body: ${(error as Error).message}. Send form-encoded parameters (application/x-www-form-urlencoded).`,
    );
  }
}
