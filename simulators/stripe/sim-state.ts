// What the Stripe simulator holds: the account (the domain core), the idempotency keys, the
// webhook attempts and the webhook fault settings. This is the kit's `state`: `/_sim/state` shows
// its snapshot and `/_sim/reset` empties it.
import type { SimulatorState } from '../kit/index.ts';
import { createIdempotencyStore } from './idempotency.ts';
import type { ResolvedStripeOptions } from './options.ts';
import { createStripeState } from './state.ts';
import { createAttemptLog } from './webhook-attempts.ts';
import { createWebhookFaults } from './webhook-faults.ts';

export function createStripeSimulatorState(options: ResolvedStripeOptions) {
  // the kit's clock exists only once the simulator starts; until then (and in unit use) real time
  let now = () => Date.now();
  const clockNow = () => now();
  const stripe = createStripeState({
    seed: options.seed,
    now: clockNow,
    webhookRetry: options.webhookRetry,
    invoiceRetryDays: options.invoiceRetryDays,
    afterFinalFailure: options.afterFinalFailure,
    maxEvents: options.maxEvents,
    maxDeliveries: options.maxDeliveries,
  });
  const idempotency = createIdempotencyStore({ now: clockNow, maxKeys: options.maxIdempotencyKeys });
  const webhookFaults = createWebhookFaults({
    seed: options.seed,
    defaults: options.webhookFaults,
    limit: options.maxWebhookAttempts,
  });
  const attempts = createAttemptLog(options.maxWebhookAttempts);
  const resetHooks: (() => void)[] = [];

  return {
    stripe,
    idempotency,
    webhookFaults,
    attempts,
    /** Reads time from the simulator's clock from now on. */
    useClock(read: () => number): void {
      now = read;
    },
    /** Runs `hook` on every reset (the webhook sender forgets its plans). */
    onReset(hook: () => void): void {
      resetHooks.push(hook);
    },
    snapshot() {
      return {
        ...stripe.snapshot(),
        idempotencyKeys: idempotency.size,
        webhookAttempts: attempts.list(),
        webhookAttemptsDropped: attempts.dropped,
        webhookFaults: { settings: webhookFaults.settings(), journal: webhookFaults.journal() },
      };
    },
    reset(): void {
      stripe.reset();
      idempotency.clear();
      attempts.clear();
      webhookFaults.reset();
      for (const hook of resetHooks) hook();
    },
  } satisfies SimulatorState & Record<string, unknown>;
}

export type StripeSimulatorState = ReturnType<typeof createStripeSimulatorState>;
