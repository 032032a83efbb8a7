import { type Decline, declineError } from '../cards.ts';
import { invalidRequest, invalidState } from '../errors.ts';
import { type Params, readBool, readString } from '../params.ts';
import { copy, emit, nowFor, type RequestContext, refId, type Sim } from '../store.ts';
import { daySeconds } from '../time.ts';
import { requireInvoice } from './invoices.ts';
import { chargeIntent } from './payment-intents.ts';
import { attachedPaymentMethod } from './payment-methods.ts';
import { cancelSubscriptionNow, setSubscriptionStatus } from './subscriptions.ts';
import type { Invoice, PaymentIntent, PaymentMethod, Subscription } from './types.ts';

/** The payment method a subscription is charged to: its own default, then the customer's. */
export function subscriptionPaymentMethod(sim: Sim, subscription: Subscription): PaymentMethod | undefined {
  const customer = sim.customers.get(refId(subscription.customer) as string);
  const id =
    refId(subscription.default_payment_method) ??
    refId(customer?.invoice_settings.default_payment_method ?? null);
  return id ? sim.paymentMethods.get(id) : undefined;
}

/** The payment method an invoice is charged to: its own, its subscription's, then the customer's. */
export function invoicePaymentMethod(sim: Sim, invoice: Invoice): PaymentMethod | undefined {
  const own = refId(invoice.default_payment_method);
  if (own) return sim.paymentMethods.get(own);
  const subscription = invoice.subscription
    ? sim.subscriptions.get(refId(invoice.subscription) as string)
    : undefined;
  if (subscription) return subscriptionPaymentMethod(sim, subscription);
  const customer = sim.customers.get(refId(invoice.customer) as string);
  const id = refId(customer?.invoice_settings.default_payment_method ?? null);
  return id ? sim.paymentMethods.get(id) : undefined;
}

function markPaid(sim: Sim, invoice: Invoice, request?: RequestContext): void {
  const now = nowFor(sim, invoice.test_clock);
  invoice.status = 'paid';
  invoice.paid = true;
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.status_transitions.paid_at = now;
  for (const payment of invoice.payments.data) {
    if (payment.status !== 'open') continue;
    payment.status = 'paid';
    payment.amount_paid = payment.amount_requested;
    payment.status_transitions.paid_at = now;
  }
  const customer = sim.customers.get(refId(invoice.customer) as string);
  if (customer) customer.delinquent = false;
  emit(sim, 'invoice.paid', invoice, request);
  emit(sim, 'invoice.payment_succeeded', invoice, request);
  const subscription = invoice.subscription
    ? sim.subscriptions.get(refId(invoice.subscription) as string)
    : undefined;
  if (subscription && ['incomplete', 'past_due', 'unpaid'].includes(subscription.status)) {
    setSubscriptionStatus(sim, subscription, 'active', request);
  }
}

/** Marks an invoice with nothing to charge as paid (a trial's $0 invoice, a credit balance). */
export const markZeroInvoicePaid = (sim: Sim, invoice: Invoice, request?: RequestContext) =>
  markPaid(sim, invoice, request);

/** A payment intent of an invoice succeeded outside the invoice (confirmed directly): the invoice is paid. */
export function markInvoicePaidByIntent(sim: Sim, intent: PaymentIntent, request?: RequestContext): void {
  const invoiceId = sim.paymentIntentInvoices.get(intent.id);
  const invoice = invoiceId ? sim.invoices.get(invoiceId) : undefined;
  if (invoice && invoice.status === 'open' && intent.status === 'succeeded') markPaid(sim, invoice, request);
}

function recordFailure(sim: Sim, invoice: Invoice, request?: RequestContext): void {
  const now = nowFor(sim, invoice.test_clock);
  const retryDays = sim.options.invoiceRetryDays;
  // the first invoice of a subscription is not retried: the subscription stays incomplete instead
  const retries = invoice.billing_reason === 'subscription_create' ? [] : retryDays;
  const wait = retries[invoice.attempt_count - 1];
  invoice.next_payment_attempt = wait === undefined ? null : now + wait * daySeconds;
  const customer = sim.customers.get(refId(invoice.customer) as string);
  if (customer) customer.delinquent = true;
  emit(sim, 'invoice.payment_failed', invoice, request);
  const subscription = invoice.subscription
    ? sim.subscriptions.get(refId(invoice.subscription) as string)
    : undefined;
  if (!subscription || invoice.billing_reason === 'subscription_create') return;
  if (subscription.status === 'active' || subscription.status === 'trialing') {
    setSubscriptionStatus(sim, subscription, 'past_due', request);
  }
  const final = invoice.next_payment_attempt === null && invoice.attempt_count > retries.length;
  if (final && subscription.status === 'past_due') {
    if (sim.options.afterFinalFailure === 'canceled') {
      cancelSubscriptionNow(sim, subscription, 'payment_failed', request);
    } else if (sim.options.afterFinalFailure === 'unpaid') {
      setSubscriptionStatus(sim, subscription, 'unpaid', request);
    }
  }
}

/**
 * One automatic payment attempt of an open invoice against its payment method: paid, or failed with
 * `invoice.payment_failed`, the next retry scheduled and the subscription past due. Returns the
 * decline (or `'no_payment_method'`); a decline here is an outcome, not a thrown error.
 */
export function attemptInvoicePayment(
  sim: Sim,
  invoice: Invoice,
  request?: RequestContext,
  paymentMethod?: PaymentMethod,
): Decline | 'no_payment_method' | undefined {
  if (invoice.status !== 'open') return undefined;
  const intent = sim.paymentIntents.get(refId(invoice.payment_intent) as string);
  if (!intent) {
    markPaid(sim, invoice, request);
    return undefined;
  }
  const pm = paymentMethod ?? invoicePaymentMethod(sim, invoice);
  invoice.attempt_count++;
  invoice.attempted = true;
  if (!pm) {
    recordFailure(sim, invoice, request);
    return 'no_payment_method';
  }
  const decline = chargeIntent(sim, intent, pm, request);
  if (decline) recordFailure(sim, invoice, request);
  else markPaid(sim, invoice, request);
  return decline;
}

/**
 * `POST /v1/invoices/:id/pay`: charges now (with `payment_method` if given); a decline answers 402
 * after the failed attempt is recorded, as Stripe does. `paid_out_of_band=true` marks it paid.
 */
export function payInvoice(sim: Sim, id: string, params: Params, request?: RequestContext): Invoice {
  const invoice = requireInvoice(sim, id);
  if (invoice.status === 'paid') throw invalidState('Invoice is already paid');
  if (invoice.status !== 'open')
    throw invalidState(`You cannot pay an invoice with status ${invoice.status}.`);
  if (readBool(params, 'paid_out_of_band')) {
    markPaid(sim, invoice, request);
    return invoice;
  }
  const given = readString(params, 'payment_method');
  const customer = refId(invoice.customer) as string;
  // a given payment method must be the customer's (a test name is attached on the spot)
  const pm = given
    ? attachedPaymentMethod(sim, customer, given, 'payment_method', request)
    : invoicePaymentMethod(sim, invoice);
  if (!pm) {
    throw invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
    );
  }
  const decline = attemptInvoicePayment(sim, invoice, request, pm);
  if (decline && decline !== 'no_payment_method') {
    const intent = sim.paymentIntents.get(refId(invoice.payment_intent) as string);
    throw declineError(decline, { payment_intent: copy(intent), payment_method: copy(pm) });
  }
  return invoice;
}
