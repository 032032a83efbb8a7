import { type CardProfile, chargeOutcome, type Decline, declineError } from '../cards.ts';
import { invalidRequest, invalidState, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate } from '../pagination.ts';
import {
  type Params,
  readBool,
  readEnum,
  readHash,
  readInt,
  readNullableString,
  readString,
  readStringList,
} from '../params.ts';
import {
  atomically,
  clockOfCustomer,
  copy,
  emit,
  nowFor,
  type RequestContext,
  refId,
  type Sim,
} from '../store.ts';
import { requireCustomer } from './customers.ts';
import { markInvoicePaidByIntent } from './invoice-payment.ts';
import { markAttached, resolvePaymentMethod, verifyAttachable } from './payment-methods.ts';
import type { PaymentError, PaymentIntent, PaymentMethod } from './types.ts';

// Stripe's minimum charge is about 50 cents in most currencies
const minimumAmount = 50;

export function requirePaymentIntent(sim: Sim, id: string, param = 'id'): PaymentIntent {
  const intent = sim.paymentIntents.get(id);
  if (!intent) throw noSuch('payment_intent', id, param);
  return intent;
}

/** A new payment intent; also used by invoices for their payments. */
export function buildPaymentIntent(
  sim: Sim,
  fields: { amount: number; currency: string; customer: string | null; description: string | null },
): PaymentIntent {
  const id = sim.ids.next('pi');
  const intent: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount: fields.amount,
    amount_capturable: 0,
    amount_received: 0,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${sim.ids.text(25)}`,
    confirmation_method: 'automatic',
    created: nowFor(sim, fields.customer ? clockOfCustomer(sim, fields.customer) : null),
    currency: fields.currency,
    customer: fields.customer,
    description: fields.description,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: {},
    next_action: null,
    payment_method: null,
    payment_method_types: ['card'],
    receipt_email: null,
    setup_future_usage: null,
    status: 'requires_payment_method',
  };
  sim.paymentIntents.set(id, intent);
  return intent;
}

/**
 * Charges `pm` for the intent at the intent's time: succeeded, or back to
 * `requires_payment_method` with `last_payment_error`. Emits the payment_intent events and returns
 * the decline, if any; it does not throw for a decline, so callers decide (an invoice retry does not).
 */
export function chargeIntent(
  sim: Sim,
  intent: PaymentIntent,
  pm: PaymentMethod,
  request?: RequestContext,
): Decline | undefined {
  const customer = refId(intent.customer);
  if (pm.customer && customer && pm.customer !== customer) {
    throw invalidRequest(
      `The provided PaymentMethod belongs to another customer than this PaymentIntent's.`,
      'payment_method',
    );
  }
  const at = nowFor(sim, customer ? clockOfCustomer(sim, customer) : null);
  intent.payment_method = pm.id;
  const decline = chargeOutcome(sim.cardProfiles.get(pm.id) as CardProfile, pm.card, at);
  if (decline) {
    const error: PaymentError = {
      type: 'card_error',
      code: decline.code,
      ...(decline.decline_code ? { decline_code: decline.decline_code } : {}),
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replaceAll('_', '-')}`,
      message: decline.message,
      payment_method: copy(pm),
    };
    intent.last_payment_error = error;
    intent.status = 'requires_payment_method';
    emit(sim, 'payment_intent.payment_failed', intent, request);
    return decline;
  }
  intent.last_payment_error = null;
  intent.status = 'succeeded';
  intent.amount_received = intent.amount;
  // saving the card for later charges attaches it, as Stripe does on success
  if (intent.setup_future_usage && customer && !pm.customer) {
    verifyAttachable(sim, pm, at);
    markAttached(sim, pm, customer, request);
  }
  emit(sim, 'payment_intent.succeeded', intent, request);
  return undefined;
}

function readFields(sim: Sim, intent: PaymentIntent, params: Params): void {
  const amount = readInt(params, 'amount');
  if (amount !== undefined) {
    if (amount < minimumAmount) {
      throw invalidRequest(`Amount must be at least ${minimumAmount} cents`, 'amount', 'amount_too_small');
    }
    intent.amount = amount;
  }
  const currency = readString(params, 'currency');
  if (currency) intent.currency = currency.toLowerCase();
  const customer = readString(params, 'customer');
  if (customer) intent.customer = requireCustomer(sim, customer, 'customer').id;
  for (const field of ['description', 'receipt_email'] as const) {
    const value = readNullableString(params, field);
    if (value !== undefined) intent[field] = value;
  }
  const usage = readEnum(params, 'setup_future_usage', ['off_session', 'on_session']);
  if (usage) intent.setup_future_usage = usage;
  const types = readStringList(params, 'payment_method_types');
  if (types) intent.payment_method_types = types;
  if (params.automatic_payment_methods !== undefined) {
    intent.automatic_payment_methods = {
      enabled: readBool(readHash(params, 'automatic_payment_methods'), 'enabled') ?? false,
    };
  }
  const pm = readString(params, 'payment_method');
  if (pm) {
    intent.payment_method = resolvePaymentMethod(sim, pm, 'payment_method').id;
    if (intent.status === 'requires_payment_method') intent.status = 'requires_confirmation';
  }
  intent.metadata = applyMetadata(intent.metadata, params);
}

export function createPaymentIntent(sim: Sim, params: Params, request?: RequestContext): PaymentIntent {
  readInt(params, 'amount', true);
  readString(params, 'currency', true);
  const intent = buildPaymentIntent(sim, { amount: 0, currency: 'usd', customer: null, description: null });
  try {
    readFields(sim, intent, params);
  } catch (error) {
    sim.paymentIntents.delete(intent.id);
    throw error;
  }
  emit(sim, 'payment_intent.created', intent, request);
  if (readBool(params, 'confirm')) return confirmPaymentIntent(sim, intent.id, {}, request);
  return intent;
}

export function updatePaymentIntent(
  sim: Sim,
  id: string,
  params: Params,
  _request?: RequestContext,
): PaymentIntent {
  const intent = requirePaymentIntent(sim, id);
  if (intent.status === 'succeeded' || intent.status === 'canceled') {
    throw invalidState(
      `This PaymentIntent's amount could not be updated because it has a status of ${intent.status}.`,
    );
  }
  // Stripe has no `payment_intent.updated` event
  atomically(intent, () => readFields(sim, intent, params));
  return intent;
}

/** Confirms with the given or stored payment method; a decline answers 402 with the intent in it. */
export function confirmPaymentIntent(
  sim: Sim,
  id: string,
  params: Params,
  request?: RequestContext,
): PaymentIntent {
  const intent = requirePaymentIntent(sim, id);
  if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') {
    throw invalidRequest(
      `You cannot confirm this PaymentIntent because it has a status of ${intent.status}.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  }
  const pmId = readString(params, 'payment_method') ?? refId(intent.payment_method);
  if (!pmId) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.",
      undefined,
      'payment_intent_unexpected_state',
    );
  }
  const pm = resolvePaymentMethod(sim, pmId, 'payment_method');
  const decline = chargeIntent(sim, intent, pm, request);
  if (decline) {
    throw declineError(decline, { payment_intent: copy(intent), payment_method: copy(pm) });
  }
  markInvoicePaidByIntent(sim, intent, request);
  return intent;
}

export function cancelPaymentIntent(
  sim: Sim,
  id: string,
  params: Params,
  request?: RequestContext,
): PaymentIntent {
  const intent = requirePaymentIntent(sim, id);
  if (intent.status === 'succeeded' || intent.status === 'canceled') {
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
      undefined,
      'payment_intent_unexpected_state',
    );
  }
  if (sim.paymentIntentInvoices.has(id)) {
    throw invalidState(
      'You cannot cancel this PaymentIntent because it belongs to an invoice. Void the invoice instead.',
    );
  }
  intent.status = 'canceled';
  intent.canceled_at = nowFor(
    sim,
    intent.customer ? clockOfCustomer(sim, refId(intent.customer) as string) : null,
  );
  intent.cancellation_reason = readString(params, 'cancellation_reason') ?? null;
  emit(sim, 'payment_intent.canceled', intent, request);
  return intent;
}

export function listPaymentIntents(sim: Sim, params: Params) {
  const customer = readString(params, 'customer');
  const items = newestFirst(
    sim.paymentIntents.values(),
    (intent) => customer === undefined || intent.customer === customer,
  );
  return paginate(items, params, '/v1/payment_intents', 'payment_intent');
}
