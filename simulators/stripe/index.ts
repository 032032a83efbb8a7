// The Stripe simulator: Stripe's /v1 API over the domain core, with webhooks, idempotency keys,
// test clocks and the kit's faults, close enough that the official `stripe` SDK works unchanged.
//
// @example
//   await using sim = await createStripeSimulator({ seed: 1 }).start();
//   const stripe = new Stripe('sk_test_123', { host: '127.0.0.1', port: sim.port, protocol: 'http' });
//   const customer = await stripe.customers.create({ email: 'ada@example.com' });

import type { Simulator } from '../kit/index.ts';
import { resolveOptions, type StripeSimulatorOptions } from './options.ts';
import { buildStripeSimulator } from './server.ts';
import type { StripeSimulatorState } from './sim-state.ts';

/** The Stripe simulator, not started yet (`planewright sim stripe` and tests call `.start()`). */
export function createStripeSimulator(options: StripeSimulatorOptions = {}): Simulator<StripeSimulatorState> {
  return buildStripeSimulator(resolveOptions(options));
}

// options and what the handle's `state` holds
export type { StripeSimulatorOptions } from './options.ts';
export type { StripeSimulatorState } from './sim-state.ts';
export type { WebhookAttempt } from './webhook-attempts.ts';
// retry policies for `webhookRetry`
export { fastRetryPolicy, type RetryPolicy, stripeLiveRetryPolicy } from './webhook-delivery.ts';
export type { WebhookFaultEntry, WebhookFaultsInput } from './webhook-faults.ts';
