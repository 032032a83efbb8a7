// Sends the core's webhook deliveries: POSTs each event, signed, to its endpoint, in a span linked
// to the request that caused it, and reports each outcome back so the core schedules retries.
// Deliveries to one endpoint go one at a time, in the order the events happened, so that a
// `reorder` fault is the only thing that reorders them; endpoints do not wait for each other.
import { type SpanContext, trace } from '@opentelemetry/api';
import type { SimulatorContext } from '../kit/index.ts';
import type { StripeSimulatorState } from './sim-state.ts';
import type { WebhookDelivery } from './webhook-delivery.ts';
import { createHoldBack } from './webhook-hold.ts';
import { postTraced, type WebhookRequest } from './webhook-post.ts';
import { createSenderTimers } from './webhook-timers.ts';

/** What the sender knows about a delivery beyond the core's record of it. */
interface Plan {
  cause: SpanContext | undefined;
  eventType: string;
  duplicate: boolean;
  reorder: boolean;
}

// more due at once than this waits for the next pump; keeps one pump's work bounded
const batchLimit = 1_000;
// Signed with wall time, not the simulator clock: receivers check a signature's age against their
// own clock (the SDK's constructEvent allows 300 s), and an advanced simulator clock must not make
// every webhook look forged. Stripe signs with the time of sending, whatever a test clock says.
const signedAt = () => Date.now();
// plans beyond this are checked against the core's pending deliveries (the core keeps 10,000)
const maxPlans = 20_000;

export function createWebhookSender(options: {
  state: StripeSimulatorState;
  ctx: SimulatorContext<StripeSimulatorState>;
  timeoutMs: number;
  /** A frozen clock moves only when advanced: no timers then, the advance pumps. */
  frozen: boolean;
  /** Endpoints off this machine are sent to (the `allowExternalWebhooks` option). */
  allowExternal?: boolean;
}) {
  const { state, ctx, timeoutMs } = options;
  const { stripe, webhookFaults, attempts } = state;
  const plans = new Map<string, Plan>();
  const inFlight = new Set<string>();
  const queues = new Map<string, Promise<void>>();
  // bumped by reset: the new account reuses seeded ids, so older work must not touch it
  let generation = 0;

  const timers = createSenderTimers({
    frozen: options.frozen,
    now: () => ctx.clock.now(),
    pump: () => pump(),
    tick: () => stripe.runDue(),
    signal: ctx.signal,
  });
  const hold = createHoldBack({
    holdMs: () => webhookFaults.settings().holdMs,
    release: (delivery) => enqueue(delivery.endpointId, () => attempt(delivery, true)),
  });

  /** Plans the new deliveries: who caused them, and which webhook faults hit them. */
  function claim(cause: SpanContext | undefined): void {
    if (plans.size > maxPlans) forgetSettled();
    for (const delivery of stripe.webhooks.due(batchLimit)) {
      if (plans.has(delivery.id) || delivery.attempts > 0) continue;
      const eventType = typeOfEvent(delivery.eventId);
      if (eventType === undefined) continue;
      plans.set(delivery.id, { cause, eventType, ...webhookFaults.decide(delivery, eventType) });
    }
  }

  // a delivery the core dropped or gave up without an attempt (its endpoint deleted) leaves a plan
  function forgetSettled(): void {
    const pending = new Set(stripe.webhooks.list().flatMap((d) => (d.status === 'pending' ? [d.id] : [])));
    for (const id of plans.keys()) if (!pending.has(id) && !inFlight.has(id)) plans.delete(id);
  }

  function typeOfEvent(id: string): string | undefined {
    try {
      return stripe.events.retrieve(id).type;
    } catch {
      return undefined; // dropped from the bounded event log: nothing left to send
    }
  }

  /** Starts every delivery whose time has come and is not already on its way. */
  function pump(): void {
    if (ctx.signal.aborted) return;
    claim(undefined);
    const byEndpoint = new Map<string, WebhookDelivery[]>();
    for (const delivery of stripe.webhooks.due(batchLimit)) {
      if (inFlight.has(delivery.id)) continue;
      inFlight.add(delivery.id);
      timers.started(delivery.id);
      const list = byEndpoint.get(delivery.endpointId) ?? [];
      list.push(delivery);
      byEndpoint.set(delivery.endpointId, list);
    }
    for (const [endpointId, list] of byEndpoint) enqueue(endpointId, () => sendBatch(list));
  }

  function enqueue(endpointId: string, work: () => Promise<void>): void {
    const key = `${generation}\u0000${endpointId}`;
    const tail = (queues.get(key) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      ctx.logger.error({ err: error, endpointId }, 'webhook delivery failed inside the simulator');
    });
    queues.set(key, tail);
    void ctx.track(tail).then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
  }

  async function sendBatch(list: WebhookDelivery[]): Promise<void> {
    for (let i = 0; i < list.length; i++) {
      const delivery = list[i] as WebhookDelivery;
      const plan = plans.get(delivery.id);
      if (!plan?.reorder) {
        await send(delivery);
        continue;
      }
      plan.reorder = false;
      const next = list[i + 1];
      if (!next) {
        // nothing after it yet: wait for the endpoint's next event, or go after `holdMs`
        const earlier = hold.hold(delivery);
        if (earlier) await attempt(earlier, true);
        continue;
      }
      await send(next);
      await attempt(delivery, true);
      i++;
    }
  }

  /** One delivery, then whatever a reorder fault held back to go after it. */
  async function send(delivery: WebhookDelivery): Promise<void> {
    await attempt(delivery, false);
    const held = hold.take(delivery.endpointId);
    if (held) await attempt(held, true);
  }

  async function attempt(delivery: WebhookDelivery, reordered: boolean): Promise<void> {
    const started = generation;
    try {
      const prepared = stripe.webhooks.prepare(delivery.id, signedAt());
      if (!prepared || ctx.signal.aborted) return;
      const plan = plans.get(delivery.id);
      const number = delivery.attempts + 1;
      const result = await post(delivery, prepared, plan, { number, duplicate: false, reordered });
      if (started !== generation) return;
      const recorded = stripe.webhooks.record(delivery.id, result);
      // a duplicate follows a success: the receiver got the event, and gets it again
      if (plan?.duplicate && result.ok) {
        plan.duplicate = false;
        const again = stripe.webhooks.prepare(delivery.id, signedAt()) ?? prepared;
        await post(delivery, again, plan, { number, duplicate: true, reordered: false });
      }
      if (recorded?.status === 'pending' && recorded.nextAttemptAtMs !== null) {
        timers.retryAt(delivery.id, recorded.nextAttemptAtMs);
      } else {
        plans.delete(delivery.id);
      }
    } finally {
      if (started === generation) inFlight.delete(delivery.id);
    }
  }

  const post = (
    delivery: WebhookDelivery,
    prepared: WebhookRequest,
    plan: Plan | undefined,
    attempt: { number: number; duplicate: boolean; reordered: boolean },
  ) =>
    postTraced(
      { ctx, attempts, timeoutMs, allowExternal: options.allowExternal ?? false },
      { delivery, prepared, cause: plan?.cause, eventType: plan?.eventType, ...attempt },
    );

  state.onReset(() => {
    generation++;
    plans.clear();
    inFlight.clear();
    timers.clear();
    hold.clear();
  });
  ctx.signal.addEventListener('abort', () => hold.clear());

  return {
    /** After an API request: its new deliveries are linked to its span, then sent. */
    afterRequest(): void {
      claim(trace.getActiveSpan()?.spanContext());
      pump();
    },
    pump,
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
