import { randomUUID } from 'node:crypto';
import { billingApi } from './api/billing.ts';
import { customersApi } from './api/customers.ts';
import { platformApi } from './api/platform.ts';
import { createEventLog, typeMatches } from './events.ts';
import { expand } from './expand.ts';
import { createIdGenerator, seededRandom } from './ids.ts';
import { runDue } from './objects/billing-cycle.ts';
import type { Params } from './params.ts';
import { readExpand } from './params.ts';
import { signatureHeader, webhookPayload } from './signature.ts';
import { copy, type ResolvedOptions, type Sim, type StripeStateOptions } from './store.ts';
import { toSeconds } from './time.ts';
import { createDeliveryQueue, type DeliveryResult, fastRetryPolicy } from './webhook-delivery.ts';

/**
 * How many billing steps one `runDue()` call runs at most: a long jump of the simulator clock is
 * worked off in slices of this size, with other requests served in between.
 */
export const runDueSlice = 1_000;

/** The API version the simulator speaks: the one of the `stripe` SDK its conformance tests use. */
export const defaultApiVersion = '2026-10-28.endive';

function resolve(options: StripeStateOptions): ResolvedOptions {
  return {
    now: options.now ?? Date.now,
    apiVersion: options.apiVersion ?? defaultApiVersion,
    maxEvents: options.maxEvents ?? 100_000,
    maxDeliveries: options.maxDeliveries ?? 10_000,
    webhookRetry: options.webhookRetry ?? fastRetryPolicy,
    invoiceRetryDays: options.invoiceRetryDays ?? [3, 5, 7],
    afterFinalFailure: options.afterFinalFailure ?? 'past_due',
    accountName: options.accountName ?? 'Planewright Simulator',
  };
}

// `jitter` is a stream of its own: retries happen when receivers answer, so drawing their jitter
// from the id stream would make later ids depend on network timing, and a seeded run unrepeatable
function createSim(options: ResolvedOptions, random: () => number, jitter: () => number): Sim {
  const ids = createIdGenerator(random);
  // the log and the queue call back into `sim` only after it exists
  const sim: Sim = {
    options,
    ids,
    random,
    cursor: null,
    customers: new Map(),
    deleted: new Map(),
    paymentMethods: new Map(),
    cardProfiles: new Map(),
    products: new Map(),
    prices: new Map(),
    subscriptions: new Map(),
    subscriptionInternals: new Map(),
    invoices: new Map(),
    paymentIntents: new Map(),
    paymentIntentInvoices: new Map(),
    webhookEndpoints: new Map(),
    webhookSecrets: new Map(),
    testClocks: new Map(),
    events: createEventLog({
      ids,
      apiVersion: options.apiVersion,
      maxEvents: options.maxEvents,
      // every enabled endpoint that listens for the type gets its own delivery
      deliver: (event) => {
        let count = 0;
        for (const endpoint of sim.webhookEndpoints.values()) {
          const listens = endpoint.enabled_events.some((type) => typeMatches(type, event.type));
          if (endpoint.status !== 'enabled' || !listens) continue;
          sim.deliveries.enqueue(event.id, endpoint, options.now());
          count++;
        }
        return count;
      },
    }),
    deliveries: createDeliveryQueue({
      nextId: () => ids.next('whdel'),
      policy: options.webhookRetry,
      random: jitter,
      maxDeliveries: options.maxDeliveries,
      onSettled: (delivery) => {
        const event = sim.events.find(delivery.eventId);
        if (event) event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
      },
    }),
  };
  return sim;
}

/**
 * The Stripe simulator's domain core: an in-memory Stripe account, without HTTP. Every method takes
 * decoded parameters (strings from a form body, or plain values) and an optional request context
 * (request id and idempotency key, recorded on events), returns the JSON object Stripe would answer
 * (expanded per `expand[]`), and throws a `StripeError` that carries Stripe's error body and status.
 *
 * @example
 * const stripe = createStripeState({ seed: 1 });
 * const customer = stripe.customers.create({ email: 'ada@example.com', payment_method: 'pm_card_visa' });
 */
export function createStripeState(options: StripeStateOptions = {}) {
  const resolved = resolve(options);
  const seed = options.seed ?? randomUUID();
  const freshRandom = () => options.random ?? seededRandom(seed);
  const freshJitter = () => options.random ?? seededRandom(`${seed}\u0000webhook-jitter`);
  let sim = createSim(resolved, freshRandom(), freshJitter());
  const current = () => sim;

  /** A copy of `object` with `expand[]` applied: what a response carries. */
  const render = <T extends object>(object: T, params: Params = {}): T =>
    expand(sim, copy(object), readExpand(params));

  const webhooks = {
    /** Deliveries whose time has come, oldest first. */
    due: (limit?: number) => copy(sim.deliveries.due(resolved.now(), limit)),
    /**
     * What to POST for a delivery now: the event as Stripe sends it and a `Stripe-Signature` with the
     * time `signedAtMs` (default the simulator's now; a sender passes wall time when receivers check
     * the signature's age against their own clock). `undefined` when the delivery or its event is gone.
     */
    prepare(
      deliveryId: string,
      signedAtMs = resolved.now(),
    ): { url: string; body: string; headers: Record<string, string> } | undefined {
      const delivery = sim.deliveries.get(deliveryId);
      const event = delivery ? sim.events.find(delivery.eventId) : undefined;
      const secret = delivery ? sim.webhookSecrets.get(delivery.endpointId) : undefined;
      if (!delivery || !event || !secret) return undefined;
      const body = webhookPayload(event);
      return {
        url: delivery.url,
        body,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'stripe-signature': signatureHeader(secret, body, toSeconds(signedAtMs)),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
      };
    },
    /** The sender's report on one attempt: delivered, retried later, or given up. */
    record: (deliveryId: string, result: DeliveryResult) =>
      copy(sim.deliveries.record(deliveryId, result, resolved.now())),
    list: () => copy(sim.deliveries.list()),
    /** The signing secret of an endpoint, for a receiver under test (the admin API shows it too). */
    secret: (endpointId: string) => sim.webhookSecrets.get(endpointId),
  };

  return {
    ...customersApi(current, render),
    ...billingApi(current, render),
    ...platformApi(current, render),
    webhooks,
    /**
     * Runs the billing work due by now (renewals, trial ends, retries) for objects on no test clock;
     * call it after the simulator's clock moves. Runs at most `limit` steps (default
     * `runDueSlice`), so one call never holds the process for long: call it again while it returns
     * `limit`, as the simulator's clock advance does. Returns how many steps ran.
     */
    runDue(limit = runDueSlice): number {
      try {
        return runDue(
          sim,
          null,
          toSeconds(resolved.now()),
          (at) => {
            sim.cursor = at;
          },
          limit,
        );
      } finally {
        sim.cursor = null;
      }
    },
    /** Everything held, as plain JSON, for the admin API's `state`. */
    snapshot() {
      const values = <T>(map: Map<string, T>) => copy([...map.values()]);
      return {
        customers: values(sim.customers),
        paymentMethods: values(sim.paymentMethods),
        products: values(sim.products),
        prices: values(sim.prices),
        subscriptions: values(sim.subscriptions),
        invoices: values(sim.invoices),
        paymentIntents: values(sim.paymentIntents),
        testClocks: values(sim.testClocks),
        webhookEndpoints: [...sim.webhookEndpoints.values()].map((endpoint) => ({
          ...copy(endpoint),
          secret: sim.webhookSecrets.get(endpoint.id),
        })),
        events: copy([...sim.events.values()]),
        webhookDeliveries: sim.deliveries.list(),
        webhookDeliveriesDropped: sim.deliveries.dropped,
      };
    },
    /**
     * Back to an empty account. With a seed, ids repeat from the start; with an injected `random`,
     * the source goes on where it was (its owner resets it).
     */
    reset(): void {
      sim = createSim(resolved, freshRandom(), freshJitter());
    },
  };
}

export type StripeState = ReturnType<typeof createStripeState>;
export type Render = <T extends object>(object: T, params?: Params) => T;
export type CurrentSim = () => Sim;
