import { expect } from 'vitest';
import { StripeError } from './errors.ts';
import { createStripeState, type StripeState } from './state.ts';
import type { Interval } from './time.ts';

/** Unix seconds of an ISO time. */
export const at = (iso: string) => Date.parse(iso) / 1000;
export const day = 86_400;

/** A simulator with a clock the test moves by hand, starting at `startIso`. */
export function setup(
  startIso = '2031-01-01T00:00:00Z',
  options: Parameters<typeof createStripeState>[0] = {},
) {
  let nowMs = Date.parse(startIso);
  const clock = {
    now: () => nowMs,
    set: (iso: string) => {
      nowMs = Date.parse(iso);
    },
    advanceMs: (ms: number) => {
      nowMs += ms;
    },
  };
  const stripe = createStripeState({ seed: 'test', now: clock.now, ...options });
  return { stripe, clock };
}

/** A product with one recurring price. */
export function plan(stripe: StripeState, amount = 2_000, interval: Interval = 'month', name = 'Pro') {
  const price = stripe.prices.create({
    currency: 'usd',
    unit_amount: String(amount),
    recurring: { interval },
    product_data: { name },
  });
  return price;
}

/** The StripeError `run` throws, checked against the expected fields of its response. */
export function expectStripeError(
  run: () => unknown,
  expected: { status: number } & Record<string, unknown>,
): StripeError {
  try {
    run();
  } catch (error) {
    if (!(error instanceof StripeError)) throw error;
    const { status, ...fields } = expected;
    expect(error.statusCode).toBe(status);
    expect(error.body).toMatchObject(fields);
    return error;
  }
  throw new Error('expected a StripeError');
}

/** Event types in the order they happened, optionally only those after `fromIndex`. */
export const eventTypes = (stripe: StripeState, fromIndex = 0) =>
  stripe
    .snapshot()
    .events.slice(fromIndex)
    .map((event) => event.type);

/** The events of one type, oldest first. */
export const eventsOf = (stripe: StripeState, type: string) =>
  stripe.snapshot().events.filter((event) => event.type === type);
