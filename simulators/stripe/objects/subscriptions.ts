import { type CardProfile, chargeOutcome, declineError } from '../cards.ts';
import { invalidRequest, invalidState, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate, readRange } from '../pagination.ts';
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
import { copy, emit, nowFor, type RequestContext, refId, type Sim } from '../store.ts';
import { addIntervals, daySeconds } from '../time.ts';
import { requireCustomer } from './customers.ts';
import {
  attemptInvoicePayment,
  invoicePaymentMethod,
  markZeroInvoicePaid,
  subscriptionPaymentMethod,
} from './invoice-payment.ts';
import { createSubscriptionInvoice } from './invoices.ts';
import { attachedPaymentMethod } from './payment-methods.ts';
import { buildItem, checkItemsAgree, periodLines, setPeriod } from './subscription-items.ts';
import type { Subscription, SubscriptionStatus } from './types.ts';

const endedStatuses: SubscriptionStatus[] = ['canceled', 'incomplete_expired'];

export function requireSubscription(sim: Sim, id: string, param = 'id'): Subscription {
  const subscription = sim.subscriptions.get(id);
  if (!subscription) throw noSuch('subscription', id, param);
  return subscription;
}

/** Changes the status and says so in `customer.subscription.updated`. */
export function setSubscriptionStatus(
  sim: Sim,
  subscription: Subscription,
  status: SubscriptionStatus,
  request?: RequestContext,
): void {
  const before = copy(subscription);
  subscription.status = status;
  emit(sim, 'customer.subscription.updated', subscription, request, before);
}

/** Ends a subscription now (`customer.subscription.deleted`); its open invoices are no longer retried. */
export function cancelSubscriptionNow(
  sim: Sim,
  subscription: Subscription,
  reason: 'cancellation_requested' | 'payment_failed' | 'payment_disputed',
  request?: RequestContext,
  status: SubscriptionStatus = 'canceled',
): void {
  const now = nowFor(sim, subscription.test_clock);
  subscription.status = status;
  subscription.canceled_at ??= now;
  subscription.ended_at = now;
  subscription.cancellation_details.reason = reason;
  for (const invoice of sim.invoices.values()) {
    if (invoice.subscription === subscription.id && invoice.status === 'open')
      invoice.next_payment_attempt = null;
  }
  emit(sim, 'customer.subscription.deleted', subscription, request);
}

/** The trial's end from `trial_end` (a time or `now`) or `trial_period_days`; null for none. */
function readTrialEnd(params: Params, now: number): number | null {
  const end = readTimestamp(params, 'trial_end', true);
  if (end === 'now') return null;
  if (end !== undefined) {
    if (end <= now) {
      throw invalidRequest(
        'Invalid timestamp: must be an integer Unix timestamp in the future.',
        'trial_end',
      );
    }
    return end;
  }
  const days = readInt(params, 'trial_period_days');
  if (days === undefined || days === 0) return null;
  if (days < 0 || days > 730) {
    throw invalidRequest('trial_period_days must be between 0 and 730.', 'trial_period_days');
  }
  return now + days * daySeconds;
}

/**
 * `error_if_incomplete` must not leave a subscription behind when the first payment fails: the
 * outcome is known before anything is stored, so the 402 is answered first.
 */
function checkFirstCharge(sim: Sim, subscription: Subscription, amount: number, now: number): void {
  if (amount <= 0) return;
  const pm = subscriptionPaymentMethod(sim, subscription);
  if (!pm) {
    throw invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
    );
  }
  const decline = chargeOutcome(sim.cardProfiles.get(pm.id) as CardProfile, pm.card, now);
  if (decline) throw declineError(decline);
}

/**
 * `POST /v1/subscriptions`. With a trial: `trialing` and a paid $0 invoice. Without: the first
 * invoice is charged now; paid makes it `active` (`incomplete` first, then updated, as Stripe's
 * events go), a failure leaves it `incomplete` (`allow_incomplete`, the default), answers 402
 * (`error_if_incomplete`), and `default_incomplete` does not charge at all.
 */
export function createSubscription(sim: Sim, params: Params, request?: RequestContext): Subscription {
  const customer = requireCustomer(sim, readString(params, 'customer', true), 'customer');
  const behavior =
    readEnum(params, 'payment_behavior', [
      'allow_incomplete',
      'default_incomplete',
      'error_if_incomplete',
      'pending_if_incomplete',
    ]) ?? 'allow_incomplete';
  const collection = readEnum(params, 'collection_method', ['charge_automatically', 'send_invoice']);
  if (collection === 'send_invoice') {
    throw invalidRequest(
      'The simulator bills subscriptions with collection_method=charge_automatically only.',
      'collection_method',
    );
  }
  const now = nowFor(sim, customer.test_clock);
  const id = sim.ids.next('sub');
  const items = (readHashList(params, 'items') ?? []).map((item, i) => buildItem(sim, id, item, now, i));
  const { currency, recurring } = checkItemsAgree(items);
  const trialEnd = readTrialEnd(params, now);
  const pmParam = readNullableString(params, 'default_payment_method');
  const missingPm =
    readEnum(readHash(readHash(params, 'trial_settings'), 'end_behavior'), 'missing_payment_method', [
      'cancel',
      'create_invoice',
      'pause',
    ]) ?? 'create_invoice';
  const periodEnd = trialEnd ?? addIntervals(now, recurring.interval, recurring.interval_count);
  const metadata = applyMetadata({}, params);
  const description = readNullableString(params, 'description') ?? null;
  const cancelAt = readInt(params, 'cancel_at') ?? null;
  const cancelAtPeriodEnd = readBool(params, 'cancel_at_period_end') ?? false;
  // last of the checks: a test name here attaches a new card to the customer
  const defaultPaymentMethod = pmParam
    ? attachedPaymentMethod(sim, customer.id, pmParam, 'default_payment_method', request).id
    : null;
  const subscription: Subscription = {
    id,
    object: 'subscription',
    billing_cycle_anchor: trialEnd ?? now,
    cancel_at: cancelAt,
    cancel_at_period_end: cancelAtPeriodEnd,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: now,
    currency,
    current_period_end: periodEnd,
    current_period_start: now,
    customer: customer.id,
    days_until_due: null,
    default_payment_method: defaultPaymentMethod,
    description,
    discounts: [],
    ended_at: null,
    items: { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    metadata,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_update: null,
    schedule: null,
    start_date: now,
    status: trialEnd ? 'trialing' : 'incomplete',
    test_clock: customer.test_clock,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { missing_payment_method: missingPm } },
    trial_start: trialEnd ? now : null,
  };
  setPeriod(subscription, now, periodEnd);
  if (subscription.cancel_at_period_end) subscription.canceled_at = now;
  const lines = periodLines(sim, subscription, { start: now, end: periodEnd }, trialEnd !== null);
  if (behavior === 'error_if_incomplete') {
    checkFirstCharge(
      sim,
      subscription,
      lines.reduce((sum, line) => sum + line.amount, 0),
      now,
    );
  }
  sim.subscriptions.set(id, subscription);
  sim.subscriptionInternals.set(id, { trialWillEndSent: false, pendingLines: [] });
  emit(sim, 'customer.subscription.created', subscription, request);
  const invoice = createSubscriptionInvoice(
    sim,
    subscription,
    'subscription_create',
    lines,
    { start: now, end: now },
    request,
  );
  subscription.latest_invoice = invoice.id;
  if (invoice.amount_due === 0) markZeroInvoicePaid(sim, invoice, request);
  else if (behavior === 'default_incomplete') {
    const intent = sim.paymentIntents.get(refId(invoice.payment_intent) as string);
    const pm = invoicePaymentMethod(sim, invoice);
    if (intent && pm) {
      intent.payment_method = pm.id;
      intent.status = 'requires_confirmation';
    }
  } else attemptInvoicePayment(sim, invoice, request);
  return subscription;
}

/** `DELETE /v1/subscriptions/:id`: ends it now. */
export function cancelSubscription(
  sim: Sim,
  id: string,
  params: Params,
  request?: RequestContext,
): Subscription {
  const subscription = requireSubscription(sim, id);
  if (endedStatuses.includes(subscription.status)) {
    throw invalidState('This subscription has already been canceled.');
  }
  const details = readHash(params, 'cancellation_details');
  subscription.cancellation_details.comment = readNullableString(details, 'comment') ?? null;
  subscription.cancellation_details.feedback = readNullableString(details, 'feedback') ?? null;
  readBool(params, 'invoice_now');
  readBool(params, 'prorate');
  cancelSubscriptionNow(sim, subscription, 'cancellation_requested', request);
  // an unpaid first invoice goes with the subscription
  const latest = sim.invoices.get(refId(subscription.latest_invoice) as string);
  if (latest && latest.status === 'open' && latest.billing_reason === 'subscription_create') {
    latest.status = 'void';
    latest.status_transitions.voided_at = nowFor(sim, subscription.test_clock);
    emit(sim, 'invoice.voided', latest, request);
  }
  return subscription;
}

/** `GET /v1/subscriptions`: without `status`, canceled and expired ones are left out, as in Stripe. */
export function listSubscriptions(sim: Sim, params: Params) {
  const customer = readString(params, 'customer');
  const price = readString(params, 'price');
  const clock = readString(params, 'test_clock');
  const status = readEnum(params, 'status', [
    'active',
    'all',
    'canceled',
    'ended',
    'incomplete',
    'incomplete_expired',
    'past_due',
    'paused',
    'trialing',
    'unpaid',
  ]);
  const created = readRange(params, 'created');
  const statusMatches = (value: SubscriptionStatus) =>
    status === 'all' ||
    (status === undefined && !endedStatuses.includes(value)) ||
    (status === 'ended' && endedStatuses.includes(value)) ||
    status === value;
  const items = newestFirst(
    sim.subscriptions.values(),
    (sub) =>
      created(sub.created) &&
      statusMatches(sub.status) &&
      (customer === undefined || sub.customer === customer) &&
      (clock === undefined || sub.test_clock === clock) &&
      (price === undefined || sub.items.data.some((item) => item.price.id === price)),
  );
  return paginate(items, params, '/v1/subscriptions', 'subscription');
}
