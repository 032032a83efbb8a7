import { invalidState, noSuch } from '../errors.ts';
import { newestFirst, paginate, readRange } from '../pagination.ts';
import { type Params, readEnum, readString } from '../params.ts';
import { copy, emit, nowFor, type PendingLine, type RequestContext, refId, type Sim } from '../store.ts';
import { buildPaymentIntent } from './payment-intents.ts';
import type { Invoice, InvoiceLine, InvoicePayment, Subscription } from './types.ts';

export function requireInvoice(sim: Sim, id: string, param = 'id'): Invoice {
  const invoice = sim.invoices.get(id);
  if (!invoice) throw noSuch('invoice', id, param);
  return invoice;
}

function toLine(
  sim: Sim,
  invoiceId: string,
  subscriptionId: string,
  currency: string,
  line: PendingLine,
): InvoiceLine {
  return {
    id: sim.ids.next('il'),
    object: 'line_item',
    amount: line.amount,
    currency,
    description: line.description,
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      type: 'subscription_item_details',
      subscription_item_details: {
        invoice_item: null,
        proration: line.proration,
        proration_details: { credited_items: null },
        subscription: subscriptionId,
        subscription_item: line.subscriptionItem,
      },
    },
    period: line.period,
    pricing: {
      type: 'price_details',
      price_details: { price: line.price, product: line.product },
      unit_amount_decimal: String(line.quantity > 0 ? Math.round(line.amount / line.quantity) : line.amount),
    },
    proration: line.proration,
    quantity: line.quantity,
    subscription: subscriptionId,
  };
}

/**
 * Creates a subscription's invoice (`invoice.created`, as a draft) and finalizes it at once
 * (`invoice.finalized`; Stripe waits about an hour, which tests only feel as latency). The customer's
 * credit balance is applied first. An invoice with nothing to pay is paid on the spot; otherwise it
 * gets a payment intent and the caller decides whether to attempt payment now.
 */
export function createSubscriptionInvoice(
  sim: Sim,
  subscription: Subscription,
  reason: Invoice['billing_reason'],
  lines: PendingLine[],
  period: { start: number; end: number },
  request?: RequestContext,
): Invoice {
  const customer = sim.customers.get(refId(subscription.customer) as string);
  if (!customer) throw noSuch('customer', refId(subscription.customer) as string, 'customer');
  const now = nowFor(sim, subscription.test_clock);
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const startingBalance = customer.balance;
  // a negative balance is credit: it pays what it can, and a negative total adds to it
  const applied = total > 0 ? Math.min(total, Math.max(0, -startingBalance)) : total;
  customer.balance = startingBalance + applied;
  const id = sim.ids.next('in');
  const invoice: Invoice = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: sim.options.accountName,
    amount_due: Math.max(0, total - Math.max(0, applied)),
    amount_paid: 0,
    amount_remaining: Math.max(0, total - Math.max(0, applied)),
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    billing_reason: reason,
    collection_method: 'charge_automatically',
    created: now,
    currency: subscription.currency,
    customer: customer.id,
    customer_email: customer.email,
    customer_name: customer.name,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    last_finalization_error: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    paid: false,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: copy(subscription.metadata), subscription: subscription.id },
    },
    payment_intent: null,
    payments: { object: 'list', data: [], has_more: false, url: `/v1/invoice_payments?invoice=${id}` },
    period_end: period.end,
    period_start: period.start,
    starting_balance: startingBalance,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subscription: subscription.id,
    subtotal: total,
    test_clock: subscription.test_clock,
    total,
    webhooks_delivered_at: null,
  };
  invoice.lines.data = lines.map((line) => toLine(sim, id, subscription.id, subscription.currency, line));
  sim.invoices.set(id, invoice);
  emit(sim, 'invoice.created', invoice, request);
  finalize(sim, invoice, customer.invoice_prefix, request);
  return invoice;
}

function finalize(sim: Sim, invoice: Invoice, prefix: string, request?: RequestContext): void {
  const customer = sim.customers.get(refId(invoice.customer) as string);
  const sequence = customer ? customer.next_invoice_sequence++ : 1;
  const now = nowFor(sim, invoice.test_clock);
  invoice.number = `${prefix}-${String(sequence).padStart(4, '0')}`;
  invoice.status = 'open';
  invoice.effective_at = now;
  invoice.ending_balance = customer?.balance ?? 0;
  invoice.status_transitions.finalized_at = now;
  invoice.hosted_invoice_url = `https://invoice.stripe.com/i/acct_simulator/test_${invoice.id}`;
  invoice.invoice_pdf = `https://pay.stripe.com/invoice/acct_simulator/test_${invoice.id}/pdf`;
  if (invoice.amount_due > 0) {
    const intent = buildPaymentIntent(sim, {
      amount: invoice.amount_due,
      currency: invoice.currency,
      customer: refId(invoice.customer),
      description:
        invoice.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
    });
    sim.paymentIntentInvoices.set(intent.id, invoice.id);
    invoice.payment_intent = intent.id;
    const payment: InvoicePayment = {
      id: sim.ids.next('inpay'),
      object: 'invoice_payment',
      amount_paid: null,
      amount_requested: invoice.amount_due,
      created: now,
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: intent.id },
      status: 'open',
      status_transitions: { canceled_at: null, paid_at: null },
    };
    invoice.payments.data.push(payment);
    emit(sim, 'payment_intent.created', intent, request);
  }
  emit(sim, 'invoice.finalized', invoice, request);
}

/** Voids an open invoice: it will never be paid, and its payment intent is canceled. */
export function voidInvoice(sim: Sim, id: string, request?: RequestContext): Invoice {
  const invoice = requireInvoice(sim, id);
  if (invoice.status !== 'open') {
    throw invalidState(`You can only void open invoices; this invoice is ${invoice.status}.`);
  }
  const now = nowFor(sim, invoice.test_clock);
  invoice.status = 'void';
  invoice.next_payment_attempt = null;
  invoice.status_transitions.voided_at = now;
  const intent = invoice.payment_intent
    ? sim.paymentIntents.get(refId(invoice.payment_intent) as string)
    : undefined;
  if (intent && intent.status !== 'succeeded') {
    intent.status = 'canceled';
    intent.canceled_at = now;
    intent.cancellation_reason = 'void_invoice';
    emit(sim, 'payment_intent.canceled', intent, request);
  }
  for (const payment of invoice.payments.data) {
    if (payment.status === 'open') {
      payment.status = 'canceled';
      payment.status_transitions.canceled_at = now;
    }
  }
  emit(sim, 'invoice.voided', invoice, request);
  return invoice;
}

export function listInvoices(sim: Sim, params: Params) {
  const customer = readString(params, 'customer');
  const subscription = readString(params, 'subscription');
  const status = readEnum(params, 'status', ['draft', 'open', 'paid', 'uncollectible', 'void']);
  const created = readRange(params, 'created');
  const items = newestFirst(
    sim.invoices.values(),
    (invoice) =>
      created(invoice.created) &&
      (customer === undefined || invoice.customer === customer) &&
      (subscription === undefined || invoice.subscription === subscription) &&
      (status === undefined || invoice.status === status),
  );
  return paginate(items, params, '/v1/invoices', 'invoice');
}

/** `GET /v1/invoices/:id/lines`. */
export function listInvoiceLines(sim: Sim, id: string, params: Params) {
  const invoice = requireInvoice(sim, id);
  return paginate(invoice.lines.data, params, `/v1/invoices/${id}/lines`, 'line_item');
}
