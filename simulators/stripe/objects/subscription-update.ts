import { invalidRequest, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import {
  type Params,
  readBool,
  readEnum,
  readHash,
  readHashList,
  readInt,
  readNullableString,
  readString,
  readTimestamp,
} from '../params.ts';
import {
  atomically,
  copy,
  emit,
  nowFor,
  type PendingLine,
  type RequestContext,
  refId,
  type Sim,
} from '../store.ts';
import { addIntervals } from '../time.ts';
import { endTrial } from './billing-cycle.ts';
import { attemptInvoicePayment, markZeroInvoicePaid } from './invoice-payment.ts';
import { createSubscriptionInvoice } from './invoices.ts';
import { attachedPaymentMethod } from './payment-methods.ts';
import { planOf } from './prices.ts';
import {
  buildItem,
  checkItemsAgree,
  periodLines,
  prorationLines,
  setPeriod,
  subscriptionPrice,
} from './subscription-items.ts';
import { requireSubscription } from './subscriptions.ts';
import type { Subscription, SubscriptionItem } from './types.ts';

interface ItemChange {
  before?: SubscriptionItem;
  after?: SubscriptionItem;
}

/** Applies `items[…]` (change price or quantity by `id`, `deleted`, or add by `price`) and `quantity`. */
function applyItems(sim: Sim, subscription: Subscription, params: Params, now: number): ItemChange[] {
  const changes: ItemChange[] = [];
  const items = subscription.items.data;
  (readHashList(params, 'items') ?? []).forEach((entry, i) => {
    const itemId = readString(entry, 'id');
    if (!itemId) {
      const added = buildItem(sim, subscription.id, entry, now, i);
      items.push(added);
      changes.push({ after: added });
      return;
    }
    const index = items.findIndex((item) => item.id === itemId);
    const item = items[index];
    if (!item) throw noSuch('subscription item', itemId, `items[${i}][id]`);
    const before = copy(item);
    if (readBool(entry, 'deleted')) {
      items.splice(index, 1);
      changes.push({ before });
      return;
    }
    const priceId = readString(entry, 'price');
    if (priceId && priceId !== item.price.id) {
      const price = subscriptionPrice(sim, priceId, `items[${i}][price]`);
      item.price = copy(price);
      item.plan = planOf(price);
    }
    item.quantity = readInt(entry, 'quantity') ?? item.quantity;
    item.metadata = applyMetadata(item.metadata, entry);
    if (item.price.id !== before.price.id || item.quantity !== before.quantity)
      changes.push({ before, after: item });
  });
  const quantity = readInt(params, 'quantity');
  if (quantity !== undefined) {
    const only = items[0];
    if (items.length !== 1 || !only) {
      throw invalidRequest(
        'Pass quantities per item (items[n][quantity]) for a subscription with several items.',
        'quantity',
      );
    }
    if (only.quantity !== quantity) {
      changes.push({ before: copy(only), after: only });
      only.quantity = quantity;
    }
  }
  if (items.length === 0) throw invalidRequest('A subscription must have at least one item.', 'items');
  return changes;
}

function applyCancellation(subscription: Subscription, params: Params, now: number): void {
  const atPeriodEnd = readBool(params, 'cancel_at_period_end');
  if (atPeriodEnd !== undefined) subscription.cancel_at_period_end = atPeriodEnd;
  if (params.cancel_at !== undefined)
    subscription.cancel_at = params.cancel_at === '' ? null : (readInt(params, 'cancel_at') ?? null);
  const pending = subscription.cancel_at_period_end || subscription.cancel_at !== null;
  // Stripe stamps `canceled_at` when a cancellation is requested, and clears it when it is withdrawn
  subscription.canceled_at = pending ? (subscription.canceled_at ?? now) : null;
  const details = readHash(params, 'cancellation_details');
  for (const field of ['comment', 'feedback'] as const) {
    const value = readNullableString(details, field);
    if (value !== undefined) subscription.cancellation_details[field] = value;
  }
}

/** Applies the parameters to the subscription itself; nothing is billed yet. */
function applyUpdate(
  sim: Sim,
  subscription: Subscription,
  params: Params,
  now: number,
  request?: RequestContext,
) {
  readEnum(params, 'payment_behavior', [
    'allow_incomplete',
    'default_incomplete',
    'error_if_incomplete',
    'pending_if_incomplete',
  ]);
  subscription.metadata = applyMetadata(subscription.metadata, params);
  const description = readNullableString(params, 'description');
  if (description !== undefined) subscription.description = description;
  const pm = readNullableString(params, 'default_payment_method');
  if (pm !== undefined) {
    const customer = refId(subscription.customer) as string;
    subscription.default_payment_method =
      pm === null ? null : attachedPaymentMethod(sim, customer, pm, 'default_payment_method', request).id;
  }
  applyCancellation(subscription, params, now);
  const oldCycle = checkItemsAgree(subscription.items.data).recurring;
  const changes = applyItems(sim, subscription, params, now);
  const cycle = checkItemsAgree(subscription.items.data).recurring;
  const trialEnd = readTimestamp(params, 'trial_end', true);
  if (typeof trialEnd === 'number') {
    if (trialEnd <= now) {
      throw invalidRequest(
        'Invalid timestamp: must be an integer Unix timestamp in the future.',
        'trial_end',
      );
    }
    subscription.status = 'trialing';
    subscription.trial_start ??= now;
    subscription.trial_end = trialEnd;
    subscription.billing_cycle_anchor = trialEnd;
    setPeriod(subscription, subscription.current_period_start, trialEnd);
  }
  const intervalChanged =
    cycle.interval !== oldCycle.interval || cycle.interval_count !== oldCycle.interval_count;
  return { changes, trialEnd, intervalChanged, cycle };
}

/**
 * `POST /v1/subscriptions/:id`. A plan change in the middle of a period prorates per
 * `proration_behavior`: `create_prorations` (default) puts proration lines on the next invoice,
 * `always_invoice` invoices them now, `none` does neither. A change of interval restarts the cycle
 * now and invoices at once. `trial_end=now` ends the trial; a later `trial_end` moves it. A request
 * rejected for any parameter changes nothing.
 */
export function updateSubscription(
  sim: Sim,
  id: string,
  params: Params,
  request?: RequestContext,
): Subscription {
  const subscription = requireSubscription(sim, id);
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') {
    const allowed = Object.keys(params).every((key) =>
      ['metadata', 'cancellation_details', 'expand'].includes(key),
    );
    if (!allowed) {
      throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
    }
  }
  const before = copy(subscription);
  const now = nowFor(sim, subscription.test_clock);
  const proration =
    readEnum(params, 'proration_behavior', ['always_invoice', 'create_prorations', 'none']) ??
    'create_prorations';
  const { changes, trialEnd, intervalChanged, cycle } = atomically(subscription, () =>
    applyUpdate(sim, subscription, params, now, request),
  );
  const internal = sim.subscriptionInternals.get(id) ?? { trialWillEndSent: false, pendingLines: [] };
  if (typeof trialEnd === 'number') internal.trialWillEndSent = false;
  let invoiceNow: PendingLine[] | null = null;
  const period = { start: before.current_period_start, end: before.current_period_end };
  const billed = subscription.status !== 'trialing' && changes.length > 0;
  if (billed && intervalChanged) {
    const credits =
      proration === 'none'
        ? []
        : changes.flatMap((change) => prorationLines(sim, change.before, undefined, period, now));
    const end = addIntervals(now, cycle.interval, cycle.interval_count);
    subscription.billing_cycle_anchor = now;
    setPeriod(subscription, now, end);
    const lines = periodLines(sim, subscription, { start: now, end });
    invoiceNow = [...internal.pendingLines.splice(0), ...credits, ...lines];
  } else if (billed && proration !== 'none') {
    internal.pendingLines.push(
      ...changes.flatMap((change) => prorationLines(sim, change.before, change.after, period, now)),
    );
    if (proration === 'always_invoice') invoiceNow = internal.pendingLines.splice(0);
  }
  emit(sim, 'customer.subscription.updated', subscription, request, before);
  if (trialEnd === 'now' && subscription.status === 'trialing') endTrial(sim, subscription, request);
  if (invoiceNow) {
    const reason = 'subscription_update';
    const invoice = createSubscriptionInvoice(
      sim,
      subscription,
      reason,
      invoiceNow,
      { start: now, end: now },
      request,
    );
    subscription.latest_invoice = invoice.id;
    if (invoice.amount_due === 0) markZeroInvoicePaid(sim, invoice, request);
    else attemptInvoicePayment(sim, invoice, request);
  }
  return subscription;
}
