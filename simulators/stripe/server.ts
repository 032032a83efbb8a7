// The Stripe simulator assembled on the kit: Stripe's request ids, idempotency header, tenant
// (the Stripe-Account header) and error answers; the kit's clock driving the account's time; the
// /v1 API; the webhook sender; and the admin endpoints of its own.
import { setImmediate } from 'node:timers/promises';
import { Simulator } from '../kit/index.ts';
import type { ResolvedStripeOptions } from './options.ts';
import { installAdmin, installApi } from './routes/index.ts';
import { createStripeSimulatorState, type StripeSimulatorState } from './sim-state.ts';
import { runDueSlice } from './state.ts';
import { stripeVendor } from './vendor.ts';
import { createWebhookSender, type WebhookSender } from './webhook-sender.ts';

export function buildStripeSimulator(options: ResolvedStripeOptions): Simulator<StripeSimulatorState> {
  const state = createStripeSimulatorState(options);
  // made when the simulator starts, since it needs the running simulator's context
  let sender: WebhookSender | undefined;
  return new Simulator({
    name: 'stripe',
    state,
    seed: options.seed,
    logLevel: options.logLevel,
    requestIdHeader: 'Request-Id',
    idempotencyHeader: 'Idempotency-Key',
    // stripe-node adds a fresh key to every POST it was given none for (RequestSender.js)
    clientGeneratedIdempotencyKey: /^stripe-node-retry-/,
    tenant: (req) => req.get('stripe-account'),
    clock: {
      start: options.clock.start,
      frozen: options.clock.frozen,
      // renewals and retries of objects on no test clock, then the webhooks they caused
      // runs in slices and yields between them, so a jump of years keeps the process answering
      onAdvance: async () => {
        while (state.stripe.runDue(runDueSlice) === runDueSlice) await setImmediate();
        sender?.afterRequest();
      },
    },
    vendor: stripeVendor,
  })
    .withRoutes((router, ctx) => {
      state.useClock(() => ctx.clock.now());
      sender = createWebhookSender({
        state,
        ctx,
        timeoutMs: options.webhookTimeoutMs,
        frozen: options.clock.frozen,
        allowExternal: options.allowExternalWebhooks,
      });
      installApi(router, {
        state,
        ctx,
        sender,
        processingMs: options.processingMs,
        allowExternalWebhooks: options.allowExternalWebhooks,
      });
    })
    .withAdminRoutes((router) => installAdmin(router, state));
}
