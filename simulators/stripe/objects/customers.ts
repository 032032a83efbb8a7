import { testCardNumber } from '../cards.ts';
import { invalidRequest, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate, readRange } from '../pagination.ts';
import { type Params, readHash, readNullableString, readString, readStringList } from '../params.ts';
import { atomically, copy, emit, nowFor, type RequestContext, refId, type Sim } from '../store.ts';
import {
  attachedPaymentMethod,
  markAttached,
  resolvePaymentMethod,
  verifyAttachable,
} from './payment-methods.ts';
import { cancelSubscriptionNow } from './subscriptions.ts';
import type { Customer, DeletedObject, PaymentMethod } from './types.ts';

/** A live customer, or `No such customer` (404 for the path's id, 400 for a parameter). */
export function requireCustomer(sim: Sim, id: string, param = 'id'): Customer {
  const customer = sim.customers.get(id);
  if (!customer) throw noSuch('customer', id, param);
  return customer;
}

function readContact(customer: Customer, params: Params): void {
  for (const field of ['email', 'name', 'description', 'phone'] as const) {
    const value = readNullableString(params, field);
    if (value !== undefined) customer[field] = value;
  }
  const locales = readStringList(params, 'preferred_locales');
  if (locales) customer.preferred_locales = locales;
}

/** Sets `invoice_settings.default_payment_method` (`''` clears it). */
function readDefaultPaymentMethod(
  sim: Sim,
  customer: Customer,
  params: Params,
  request?: RequestContext,
): void {
  const settings = readHash(params, 'invoice_settings');
  const value = readNullableString(settings, 'default_payment_method');
  if (value === undefined) return;
  customer.invoice_settings.default_payment_method =
    value === null
      ? null
      : attachedPaymentMethod(sim, customer.id, value, 'invoice_settings[default_payment_method]', request)
          .id;
}

/**
 * Payment methods a new customer starts with (`payment_method`, and a test name as
 * `invoice_settings[default_payment_method]`), verified before anything is stored so that a
 * declined card leaves nothing behind.
 */
function initialPaymentMethods(sim: Sim, params: Params, at: number) {
  const attach: PaymentMethod[] = [];
  const given = readString(params, 'payment_method');
  if (given) attach.push(resolvePaymentMethod(sim, given, 'payment_method'));
  const param = 'invoice_settings[default_payment_method]';
  const wanted = readNullableString(readHash(params, 'invoice_settings'), 'default_payment_method');
  let defaultId: string | null = null;
  if (wanted && wanted === given) defaultId = attach[0]?.id ?? null;
  else if (wanted && testCardNumber(wanted) && !sim.paymentMethods.has(wanted)) {
    const pm = resolvePaymentMethod(sim, wanted, param);
    attach.push(pm);
    defaultId = pm.id;
  } else if (wanted) {
    // an existing payment method cannot be attached to a customer that does not exist yet
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${wanted}. The payment method must be attached to the customer.`,
      param,
    );
  }
  for (const pm of attach) verifyAttachable(sim, pm, at);
  return { attach, defaultId };
}

export function createCustomer(sim: Sim, params: Params, request?: RequestContext): Customer {
  const clockId = readString(params, 'test_clock');
  if (clockId && !sim.testClocks.has(clockId)) throw noSuch('test_clock', clockId, 'test_clock');
  const created = nowFor(sim, clockId ?? null);
  const metadata = applyMetadata({}, params);
  const { attach, defaultId } = initialPaymentMethods(sim, params, created);
  const customer: Customer = {
    id: sim.ids.next('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    email: null,
    invoice_prefix: sim.ids.text(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: defaultId,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata,
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: clockId ?? null,
  };
  readContact(customer, params);
  sim.customers.set(customer.id, customer);
  emit(sim, 'customer.created', customer, request);
  for (const pm of attach) markAttached(sim, pm, customer.id, request);
  return customer;
}

/** A customer, or `{ id, object: 'customer', deleted: true }` once deleted (as Stripe answers). */
export function retrieveCustomer(sim: Sim, id: string): Customer | DeletedObject {
  const customer = sim.customers.get(id);
  if (customer) return customer;
  if (sim.deleted.get(id) === 'customer') return { id, object: 'customer', deleted: true };
  throw noSuch('customer', id);
}

export function updateCustomer(sim: Sim, id: string, params: Params, request?: RequestContext): Customer {
  const customer = requireCustomer(sim, id);
  if (params.test_clock !== undefined) {
    throw invalidRequest('A customer cannot be moved to another test clock.', 'test_clock');
  }
  const before = copy(customer);
  atomically(customer, () => {
    readContact(customer, params);
    customer.metadata = applyMetadata(customer.metadata, params);
    readDefaultPaymentMethod(sim, customer, params, request);
  });
  emit(sim, 'customer.updated', customer, request, before);
  return customer;
}

/** Deletes a customer: its subscriptions end now and its payment methods are detached. */
export function deleteCustomer(sim: Sim, id: string, request?: RequestContext): DeletedObject {
  const customer = requireCustomer(sim, id);
  for (const subscription of sim.subscriptions.values()) {
    if (
      refId(subscription.customer) === id &&
      !['canceled', 'incomplete_expired'].includes(subscription.status)
    ) {
      cancelSubscriptionNow(sim, subscription, 'cancellation_requested', request);
    }
  }
  for (const pm of sim.paymentMethods.values()) if (pm.customer === id) pm.customer = null;
  emit(sim, 'customer.deleted', customer, request);
  sim.customers.delete(id);
  sim.deleted.set(id, 'customer');
  return { id, object: 'customer', deleted: true };
}

export function listCustomers(sim: Sim, params: Params) {
  const email = readString(params, 'email');
  const clock = readString(params, 'test_clock');
  const created = readRange(params, 'created');
  const items = newestFirst(
    sim.customers.values(),
    (customer) =>
      created(customer.created) &&
      (email === undefined || customer.email === email) &&
      (clock === undefined || customer.test_clock === clock),
  );
  return paginate(items, params, '/v1/customers', 'customer');
}
