import { apiError } from '../errors.ts';
import { emit, nowFor, type RequestContext, refId, type Sim } from '../store.ts';
import { addIntervals, daySeconds, hourSeconds, nextBoundary } from '../time.ts';
import { attemptInvoicePayment, markZeroInvoicePaid, subscriptionPaymentMethod } from './invoice-payment.ts';
import { createSubscriptionInvoice, voidInvoice } from './invoices.ts';
import { periodLines, setPeriod } from './subscription-items.ts';
import { cancelSubscriptionNow } from './subscriptions.ts';
import type { Invoice, Recurring, Subscription } from './types.ts';

// Stripe sends `customer.subscription.trial_will_end` three days before a trial ends, and lets a
// first invoice stay unpaid for 23 hours before the subscription expires.
const trialWarningSeconds = 3 * daySeconds;
const incompleteExpirySeconds = 23 * hourSeconds;

type Action =
  | {
      at: number;
      kind: 'cancel' | 'trial_will_end' | 'trial_end' | 'renew' | 'expire';
      subscription: Subscription;
    }
  | { at: number; kind: 'retry'; invoice: Invoice };

// at the same moment, a cancellation goes before a renewal, and a warning before the trial ends
const order: Record<Action['kind'], number> = {
  cancel: 0,
  trial_will_end: 1,
  trial_end: 2,
  renew: 3,
  retry: 4,
  expire: 5,
};

function nextForSubscription(sim: Sim, sub: Subscription): Action | undefined {
  const end = sub.current_period_end;
  if (sub.status === 'incomplete')
    return { at: sub.created + incompleteExpirySeconds, kind: 'expire', subscription: sub };
  if (!['trialing', 'active', 'past_due', 'unpaid'].includes(sub.status)) return undefined;
  if (sub.cancel_at !== null && sub.cancel_at <= end)
    return { at: sub.cancel_at, kind: 'cancel', subscription: sub };
  if (sub.cancel_at_period_end) return { at: end, kind: 'cancel', subscription: sub };
  if (sub.status === 'trialing' && sub.trial_end !== null) {
    const internal = sim.subscriptionInternals.get(sub.id);
    if (internal && !internal.trialWillEndSent) {
      const at = Math.max(sub.trial_start ?? sub.created, sub.trial_end - trialWarningSeconds);
      return { at, kind: 'trial_will_end', subscription: sub };
    }
    return { at: sub.trial_end, kind: 'trial_end', subscription: sub };
  }
  return { at: end, kind: 'renew', subscription: sub };
}

/**
 * What may come due for the objects on one test clock (or on none, for `null`): its subscriptions
 * (billing work never makes new ones) and its open invoices with a payment attempt ahead. Gathered
 * once per run, so a step looks at these objects only, not at every subscription and invoice held.
 */
interface Pending {
  clock: string | null;
  subscriptions: Subscription[];
  invoices: Set<Invoice>;
  invoiceCount: number;
}

function retrying(invoice: Invoice): boolean {
  return invoice.status === 'open' && invoice.next_payment_attempt !== null;
}

function gatherPending(sim: Sim, clock: string | null): Pending {
  const subscriptions = [...sim.subscriptions.values()].filter((sub) => refId(sub.test_clock) === clock);
  const invoices = new Set<Invoice>();
  for (const invoice of sim.invoices.values()) {
    if (refId(invoice.test_clock) === clock && retrying(invoice)) invoices.add(invoice);
  }
  return { clock, subscriptions, invoices, invoiceCount: sim.invoices.size };
}

/** After a step: the invoice it made (a renewal's or a trial end's) joins the candidates. */
function notePending(sim: Sim, pending: Pending, action: Action): void {
  const added = sim.invoices.size - pending.invoiceCount;
  if (added === 0) return;
  const made =
    action.kind === 'retry' ? undefined : sim.invoices.get(refId(action.subscription.latest_invoice) ?? '');
  if (added === 1 && made) {
    pending.invoiceCount = sim.invoices.size;
    if (retrying(made)) pending.invoices.add(made);
    return;
  }
  // anything else (never seen from billing work today): look at every invoice again
  Object.assign(pending, gatherPending(sim, pending.clock));
}

/** The earliest pending work among the gathered objects. */
function nextAction(sim: Sim, pending: Pending): Action | undefined {
  let best: Action | undefined;
  const consider = (action: Action | undefined) => {
    if (!action) return;
    if (!best || action.at < best.at || (action.at === best.at && order[action.kind] < order[best.kind]))
      best = action;
  };
  for (const sub of pending.subscriptions) consider(nextForSubscription(sim, sub));
  for (const invoice of pending.invoices) {
    if (!retrying(invoice) || !sim.invoices.has(invoice.id)) {
      pending.invoices.delete(invoice);
      continue;
    }
    consider({ at: invoice.next_payment_attempt as number, kind: 'retry', invoice });
  }
  return best;
}

function chargeNewInvoice(sim: Sim, invoice: Invoice, request?: RequestContext): void {
  if (invoice.amount_due === 0) markZeroInvoicePaid(sim, invoice, request);
  else attemptInvoicePayment(sim, invoice, request);
}

/**
 * Ends a trial now: without a payment method the subscription is canceled or paused when its
 * `trial_settings` say so; otherwise it becomes active, its first paid period is invoiced and
 * charged, and a failed charge makes it past due.
 */
export function endTrial(sim: Sim, sub: Subscription, request?: RequestContext): void {
  const at = Math.max(nowFor(sim, sub.test_clock), sub.current_period_start);
  const hasPaymentMethod = subscriptionPaymentMethod(sim, sub) !== undefined;
  const behavior = sub.trial_settings.end_behavior.missing_payment_method;
  if (!hasPaymentMethod && behavior === 'cancel') {
    cancelSubscriptionNow(sim, sub, 'cancellation_requested', request);
    return;
  }
  const recurring = sub.items.data[0]?.price.recurring as Recurring;
  const before = structuredClone(sub);
  const end = nextBoundary(at, recurring.interval, recurring.interval_count, at);
  sub.trial_end = Math.min(sub.trial_end ?? at, at);
  sub.billing_cycle_anchor = at;
  setPeriod(sub, at, end);
  if (!hasPaymentMethod && behavior === 'pause') {
    sub.status = 'paused';
    emit(sim, 'customer.subscription.updated', sub, request, before);
    emit(sim, 'customer.subscription.paused', sub, request);
    return;
  }
  sub.status = 'active';
  emit(sim, 'customer.subscription.updated', sub, request, before);
  const internal = sim.subscriptionInternals.get(sub.id);
  const lines = [...(internal?.pendingLines.splice(0) ?? []), ...periodLines(sim, sub, { start: at, end })];
  const invoice = createSubscriptionInvoice(
    sim,
    sub,
    'subscription_cycle',
    lines,
    { start: sub.trial_start ?? at, end: at },
    request,
  );
  sub.latest_invoice = invoice.id;
  chargeNewInvoice(sim, invoice, request);
}

/** A new period: the subscription moves on, its invoice (with pending prorations) is charged. */
function renew(sim: Sim, sub: Subscription): void {
  const recurring = sub.items.data[0]?.price.recurring as Recurring;
  const start = sub.current_period_end;
  const end = nextBoundary(sub.billing_cycle_anchor, recurring.interval, recurring.interval_count, start);
  const previous = { start: sub.current_period_start, end: start };
  const before = structuredClone(sub);
  setPeriod(sub, start, end);
  emit(sim, 'customer.subscription.updated', sub, undefined, before);
  const internal = sim.subscriptionInternals.get(sub.id);
  const lines = [...(internal?.pendingLines.splice(0) ?? []), ...periodLines(sim, sub, { start, end })];
  const invoice = createSubscriptionInvoice(sim, sub, 'subscription_cycle', lines, previous);
  sub.latest_invoice = invoice.id;
  chargeNewInvoice(sim, invoice);
}

function run(sim: Sim, action: Action): void {
  if (action.kind === 'retry') {
    attemptInvoicePayment(sim, action.invoice);
    return;
  }
  const sub = action.subscription;
  switch (action.kind) {
    case 'cancel':
      cancelSubscriptionNow(sim, sub, 'cancellation_requested');
      break;
    case 'trial_will_end': {
      const internal = sim.subscriptionInternals.get(sub.id);
      if (internal) internal.trialWillEndSent = true;
      emit(sim, 'customer.subscription.trial_will_end', sub);
      break;
    }
    case 'trial_end':
      endTrial(sim, sub);
      break;
    case 'renew':
      renew(sim, sub);
      break;
    case 'expire': {
      const invoice = sim.invoices.get(refId(sub.latest_invoice) as string);
      if (invoice?.status === 'open') voidInvoice(sim, invoice.id);
      cancelSubscriptionNow(sim, sub, 'payment_failed', undefined, 'incomplete_expired');
      break;
    }
  }
}

// A bound on the work of one run: far more than any real clock run needs (a year of daily
// subscriptions for a hundred customers), small enough that a bug cannot spin forever. A test clock
// advance stays far below it (Stripe lets it cover at most two of its shortest billing periods).
const maxActions = 200_000;

/**
 * Runs, in time order, everything due up to `target` (Unix seconds) for the objects on one test
 * clock (or on none, for `null`): trial warnings and ends, renewals, retries, expiries. `setTime`
 * moves that clock to each action's time first, so objects and events carry the time they happened.
 * With `limit`, stops after that many steps (the rest stays due for the next run). Returns how many
 * steps ran.
 */
export function runDue(
  sim: Sim,
  clock: string | null,
  target: number,
  setTime: (at: number) => void,
  limit = Number.POSITIVE_INFINITY,
): number {
  const pending = gatherPending(sim, clock);
  let count = 0;
  for (let action = nextAction(sim, pending); action && action.at <= target; ) {
    if (count >= limit) break;
    if (++count > maxActions) throw apiError(`billing work did not settle after ${maxActions} steps`);
    setTime(action.at);
    run(sim, action);
    notePending(sim, pending, action);
    action = nextAction(sim, pending);
  }
  return count;
}

/**
 * The latest time a test clock may be advanced to from `from`, as Stripe allows: two periods of the
 * shortest billing interval among the clock's live subscriptions, or two years with none.
 */
export function advanceLimit(sim: Sim, clock: string, from: number): { at: number; bySubscription: boolean } {
  let limit: number | undefined;
  for (const sub of sim.subscriptions.values()) {
    if (refId(sub.test_clock) !== clock || ['canceled', 'incomplete_expired'].includes(sub.status)) continue;
    for (const item of sub.items.data) {
      const recurring = item.price.recurring;
      if (!recurring) continue;
      const end = addIntervals(from, recurring.interval, recurring.interval_count, 2);
      if (limit === undefined || end < limit) limit = end;
    }
  }
  return limit === undefined
    ? { at: addIntervals(from, 'year', 1, 2), bySubscription: false }
    : { at: limit, bySubscription: true };
}
