import { attachOutcome, type CardProfile, declineError, profileOf, testCardNumber } from '../cards.ts';
import { cardError, invalidRequest, invalidState, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate } from '../pagination.ts';
import { type Params, readEnum, readHash, readInt, readNullableString, readString } from '../params.ts';
import { clockOfCustomer, copy, emit, nowFor, type RequestContext, type Sim } from '../store.ts';
import { yearMonth } from '../time.ts';
import { requireCustomer } from './customers.ts';
import type { BillingDetails, PaymentMethod } from './types.ts';

// Test cards from tokens and `pm_card_…` names expire this many years after they are made: far
// enough that long test-clock runs do not trip over them, unless a test gives its own expiry.
const testCardYears = 5;

function checkExpiry(month: number, year: number, at: number): void {
  const now = yearMonth(at);
  if (month < 1 || month > 12) {
    throw cardError('invalid_expiry_month', "Your card's expiration month is invalid.", {
      param: 'exp_month',
    });
  }
  if (year < now.year) {
    throw cardError('invalid_expiry_year', "Your card's expiration year is invalid.", { param: 'exp_year' });
  }
  if (year === now.year && month < now.month) {
    throw cardError('invalid_expiry_month', "Your card's expiration month is invalid.", {
      param: 'exp_month',
    });
  }
}

function billingDetails(params: Params, current?: BillingDetails): BillingDetails {
  const given = readHash(params, 'billing_details');
  const address = readHash(given, 'address');
  const pick = (hash: Params, name: string, old: string | null | undefined) =>
    hash[name] === undefined ? (old ?? null) : (readNullableString(hash, name) ?? null);
  const old = current?.address;
  return {
    address: {
      city: pick(address, 'city', old?.city),
      country: pick(address, 'country', old?.country),
      line1: pick(address, 'line1', old?.line1),
      line2: pick(address, 'line2', old?.line2),
      postal_code: pick(address, 'postal_code', old?.postal_code),
      state: pick(address, 'state', old?.state),
    },
    email: pick(given, 'email', current?.email),
    name: pick(given, 'name', current?.name),
    phone: pick(given, 'phone', current?.phone),
  };
}

function build(
  sim: Sim,
  profile: CardProfile,
  exp: { month: number; year: number },
  params: Params,
): PaymentMethod {
  const pm: PaymentMethod = {
    id: sim.ids.next('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: billingDetails(params),
    card: {
      brand: profile.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: profile.brand,
      exp_month: exp.month,
      exp_year: exp.year,
      // the same number gives the same fingerprint, as Stripe's does for duplicate detection
      fingerprint: Buffer.from(profile.number).toString('base64url').slice(-16),
      funding: profile.funding,
      generated_from: null,
      last4: profile.number.slice(-4),
      networks: { available: [profile.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: nowFor(sim, null),
    customer: null,
    livemode: false,
    metadata: applyMetadata({}, params),
    type: 'card',
  };
  sim.paymentMethods.set(pm.id, pm);
  sim.cardProfiles.set(pm.id, profile);
  return pm;
}

/** A payment method from a test name (`pm_card_visa`, `tok_visa`) with the default expiry. */
function fromTestName(sim: Sim, name: string, params: Params = {}): PaymentMethod | undefined {
  const number = testCardNumber(name);
  if (!number) return undefined;
  const now = yearMonth(nowFor(sim, null));
  return build(sim, profileOf(number), { month: now.month, year: now.year + testCardYears }, params);
}

/** `POST /v1/payment_methods`: `type=card` with `card[token]` or `card[number]` and expiry. */
export function createPaymentMethod(sim: Sim, params: Params, _request?: RequestContext): PaymentMethod {
  readEnum(params, 'type', ['card']);
  const card = readHash(params, 'card');
  const token = readString(card, 'token');
  let pm: PaymentMethod | undefined;
  if (token) {
    pm = fromTestName(sim, token, params);
    if (!pm) throw noSuch('token', token, 'card[token]');
  } else {
    const number = readString(card, 'number');
    if (!number)
      throw invalidRequest('Missing required param: card[number].', 'card[number]', 'parameter_missing');
    const month = readInt(card, 'exp_month', true);
    const year = readInt(card, 'exp_year', true);
    checkExpiry(month, year < 100 ? 2000 + year : year, nowFor(sim, null));
    pm = build(sim, profileOf(number), { month, year: year < 100 ? 2000 + year : year }, params);
  }
  // Stripe has no `payment_method.created` event: a payment method is news once attached
  return pm;
}

/** A stored payment method, or a fresh one for a test name used where an id is expected. */
export function resolvePaymentMethod(sim: Sim, id: string, param = 'id'): PaymentMethod {
  const found = sim.paymentMethods.get(id) ?? fromTestName(sim, id);
  if (!found) throw noSuch('PaymentMethod', id, param);
  return found;
}

export function updatePaymentMethod(
  sim: Sim,
  id: string,
  params: Params,
  request?: RequestContext,
): PaymentMethod {
  const pm = resolvePaymentMethod(sim, id);
  const before = copy(pm);
  const card = readHash(params, 'card');
  const month = readInt(card, 'exp_month') ?? pm.card.exp_month;
  const year = readInt(card, 'exp_year') ?? pm.card.exp_year;
  if (month !== pm.card.exp_month || year !== pm.card.exp_year) {
    checkExpiry(month, year, nowFor(sim, pm.customer ? clockOfCustomer(sim, pm.customer) : null));
  }
  // everything is read before anything changes, so a bad parameter changes nothing
  const details =
    params.billing_details === undefined ? pm.billing_details : billingDetails(params, pm.billing_details);
  const metadata = applyMetadata(pm.metadata, params);
  pm.card.exp_month = month;
  pm.card.exp_year = year;
  pm.billing_details = details;
  pm.metadata = metadata;
  emit(sim, 'payment_method.updated', pm, request, before);
  return pm;
}

/**
 * The card verification that attaching runs: the decline cards and expired cards fail it (402);
 * 4000000000000341 passes and fails later, on its first charge.
 */
export function verifyAttachable(sim: Sim, pm: PaymentMethod, at: number): void {
  if (pm.customer) {
    throw invalidState('The payment method you provided has already been attached to a customer.');
  }
  const decline = attachOutcome(sim.cardProfiles.get(pm.id) as CardProfile, pm.card, at);
  if (decline) throw declineError(decline, { param: '' });
}

/** Marks a verified payment method as the customer's and says so in an event. */
export function markAttached(
  sim: Sim,
  pm: PaymentMethod,
  customerId: string,
  request?: RequestContext,
): void {
  pm.customer = customerId;
  emit(sim, 'payment_method.attached', pm, request);
}

export function attachPaymentMethod(
  sim: Sim,
  id: string,
  customerId: string,
  request?: RequestContext,
  param = 'customer',
): PaymentMethod {
  const customer = requireCustomer(sim, customerId, param);
  const pm = resolvePaymentMethod(sim, id);
  if (pm.customer === customer.id) return pm;
  verifyAttachable(sim, pm, nowFor(sim, customer.test_clock));
  markAttached(sim, pm, customer.id, request);
  return pm;
}

export function detachPaymentMethod(sim: Sim, id: string, request?: RequestContext): PaymentMethod {
  const pm = resolvePaymentMethod(sim, id);
  if (!pm.customer) {
    throw invalidState(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
    );
  }
  const customer = sim.customers.get(pm.customer as string);
  if (customer && customer.invoice_settings.default_payment_method === pm.id) {
    const before = copy(customer);
    customer.invoice_settings.default_payment_method = null;
    emit(sim, 'customer.updated', customer, request, before);
  }
  // a detached card can no longer pay for anything: subscriptions that named it fall back to the
  // customer's default
  for (const subscription of sim.subscriptions.values()) {
    if (subscription.default_payment_method !== pm.id) continue;
    const before = copy(subscription);
    subscription.default_payment_method = null;
    emit(sim, 'customer.subscription.updated', subscription, request, before);
  }
  pm.customer = null;
  emit(sim, 'payment_method.detached', pm, request);
  return pm;
}

/** `GET /v1/payment_methods?customer=…` and `GET /v1/customers/:id/payment_methods`. */
export function listPaymentMethods(sim: Sim, params: Params, url = '/v1/payment_methods') {
  const customer = readString(params, 'customer');
  if (customer) requireCustomer(sim, customer, 'customer');
  readEnum(params, 'type', ['card']);
  const items = newestFirst(
    sim.paymentMethods.values(),
    (pm) => customer === undefined || pm.customer === customer,
  );
  return paginate(items, params, url, 'payment_method');
}

/**
 * A payment method named in a customer's or subscription's `default_payment_method`: a test name
 * is made and attached on the spot; any other must already be attached to this customer.
 */
export function attachedPaymentMethod(
  sim: Sim,
  customerId: string,
  id: string,
  param: string,
  request?: RequestContext,
): PaymentMethod {
  if (!sim.paymentMethods.has(id) && testCardNumber(id)) {
    const pm = resolvePaymentMethod(sim, id, param);
    return attachPaymentMethod(sim, pm.id, customerId, request);
  }
  const pm = resolvePaymentMethod(sim, id, param);
  if (pm.customer !== customerId) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
      param,
    );
  }
  return pm;
}
