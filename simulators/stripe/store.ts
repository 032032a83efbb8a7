import type { CardProfile } from './cards.ts';
import type { EventLog, RequestContext } from './events.ts';
import type { IdGenerator, Random } from './ids.ts';
import type {
  Customer,
  Invoice,
  PaymentIntent,
  PaymentMethod,
  Price,
  Product,
  Subscription,
  TestClock,
  WebhookEndpoint,
} from './objects/types.ts';
import { toSeconds } from './time.ts';
import type { DeliveryQueue, RetryPolicy } from './webhook-delivery.ts';

/** Options of the Stripe simulator's state, each with its default. */
export interface StripeStateOptions {
  /** Wall time in ms for objects not bound to a test clock. Default `Date.now`. */
  now?: () => number;
  /** Seed of the random source (ids, secrets, jitter). Default: random per process. */
  seed?: string | number;
  /** A random source in [0, 1) to use instead of the seeded one (the kit's, for example). */
  random?: Random;
  /** `api_version` on events and endpoints. Default the version of the `stripe` SDK we test with. */
  apiVersion?: string;
  /** Events kept (oldest dropped). Default 100,000. */
  maxEvents?: number;
  /** Webhook deliveries kept (finished ones dropped first). Default 10,000. */
  maxDeliveries?: number;
  /** Retries of failed webhook deliveries. Default `fastRetryPolicy`. */
  webhookRetry?: RetryPolicy;
  /** Days after a failed invoice payment when it is tried again. Default [3, 5, 7]. */
  invoiceRetryDays?: number[];
  /** The subscription's status once the last retry failed. Default `past_due` (left as it is). */
  afterFinalFailure?: 'past_due' | 'unpaid' | 'canceled';
  /** `account_name` on invoices. Default 'Planewright Simulator'. */
  accountName?: string;
}

export type ResolvedOptions = Required<Omit<StripeStateOptions, 'random' | 'seed'>>;

/** What the simulator keeps for a subscription beyond its Stripe fields. */
export interface SubscriptionInternal {
  trialWillEndSent: boolean;
  /** Proration lines waiting for the next invoice (`create_prorations`). */
  pendingLines: PendingLine[];
}

export interface PendingLine {
  amount: number;
  description: string;
  price: string;
  product: string;
  quantity: number;
  subscriptionItem: string;
  period: { start: number; end: number };
  proration: boolean;
}

/** Everything the simulator holds. Maps keep insertion order, which is list order reversed. */
export interface Sim {
  options: ResolvedOptions;
  ids: IdGenerator;
  random: Random;
  /** The time of the billing work being run for objects without a test clock, when set. */
  cursor: number | null;
  customers: Map<string, Customer>;
  /** Ids of deleted objects and their `object` type, for `{ id, object, deleted: true }`. */
  deleted: Map<string, string>;
  paymentMethods: Map<string, PaymentMethod>;
  cardProfiles: Map<string, CardProfile>;
  products: Map<string, Product>;
  prices: Map<string, Price>;
  subscriptions: Map<string, Subscription>;
  subscriptionInternals: Map<string, SubscriptionInternal>;
  invoices: Map<string, Invoice>;
  paymentIntents: Map<string, PaymentIntent>;
  /** The invoice a payment intent pays, for intents that invoices made. */
  paymentIntentInvoices: Map<string, string>;
  webhookEndpoints: Map<string, WebhookEndpoint>;
  webhookSecrets: Map<string, string>;
  testClocks: Map<string, TestClock>;
  events: EventLog;
  deliveries: DeliveryQueue;
}

export type { RequestContext };

const refId = (ref: string | { id: string } | null) =>
  ref === null || typeof ref === 'string' ? ref : ref.id;

/**
 * The time (Unix seconds) as the given test clock sees it, or as the simulator's clock does for
 * objects without one. Objects on a test clock are created, billed and charged at its frozen time.
 */
export function nowFor(sim: Sim, testClock: string | { id: string } | null): number {
  const id = refId(testClock);
  if (id) {
    const clock = sim.testClocks.get(id);
    if (clock) return clock.frozen_time;
  }
  return sim.cursor ?? toSeconds(sim.options.now());
}

/** The test clock of a customer (by id), which its subscriptions, invoices and payments share. */
export function clockOfCustomer(sim: Sim, customer: string | { id: string }): string | null {
  const found = sim.customers.get(refId(customer) as string);
  return found ? refId(found.test_clock) : null;
}

/** Appends an event; `before` makes it an update event with `previous_attributes`. */
export function emit(
  sim: Sim,
  type: string,
  object: object & { test_clock?: string | { id: string } | null; customer?: unknown },
  request?: RequestContext,
  before?: object,
): void {
  let clock = object.test_clock === undefined ? null : refId(object.test_clock);
  if (clock === null && typeof object.customer === 'string') clock = clockOfCustomer(sim, object.customer);
  sim.events.emit({ type, object, before, created: nowFor(sim, clock), request });
}

/**
 * Runs `change` on a stored object and puts the object back as it was if `change` throws, so a
 * request rejected halfway (a bad second parameter) changes nothing, as in Stripe.
 */
export function atomically<T extends object, R>(object: T, change: () => R): R {
  const saved = structuredClone(object);
  try {
    return change();
  } catch (error) {
    for (const key of Object.keys(object))
      if (!(key in saved)) delete (object as Record<string, unknown>)[key];
    Object.assign(object, saved);
    throw error;
  }
}

/** A deep copy for callers and events: stored objects never leak out to be changed from outside. */
export const copy = <T>(value: T): T => structuredClone(value);

export { refId };
