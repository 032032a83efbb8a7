import { invalidRequest, noSuch } from '../errors.ts';
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
import { atomically, copy, emit, nowFor, type RequestContext, type Sim } from '../store.ts';
import type { Interval } from '../time.ts';
import { createProduct, requireProduct } from './products.ts';
import type { Plan, Price, Recurring } from './types.ts';

const intervals: readonly Interval[] = ['day', 'week', 'month', 'year'];

export function requirePrice(sim: Sim, id: string, param = 'id'): Price {
  const price = sim.prices.get(id);
  if (!price) throw noSuch('price', id, param);
  return price;
}

function readRecurring(params: Params): Recurring | null {
  if (params.recurring === undefined) return null;
  const recurring = readHash(params, 'recurring');
  const interval = readEnum(recurring, 'interval', intervals);
  if (!interval)
    throw invalidRequest(
      'Missing required param: recurring[interval].',
      'recurring[interval]',
      'parameter_missing',
    );
  const count = readInt(recurring, 'interval_count') ?? 1;
  // Stripe's bound: at most one year between two invoices
  const days = { day: 1, week: 7, month: 31, year: 366 }[interval] * count;
  if (count < 1 || days > 366) {
    throw invalidRequest(
      'The maximum billing interval is one year (1 year, 12 months, or 52 weeks).',
      'recurring[interval_count]',
    );
  }
  return { interval, interval_count: count, meter: null, trial_period_days: null, usage_type: 'licensed' };
}

/** A lookup key is unique among prices: `transfer_lookup_key=true` moves it to the new one. */
function claimLookupKey(sim: Sim, key: string | null, transfer: boolean, request?: RequestContext): void {
  if (key === null) return;
  for (const other of sim.prices.values()) {
    if (other.lookup_key !== key) continue;
    if (!transfer) {
      throw invalidRequest(
        `A price (\`${other.id}\`) already uses that lookup key. Pass \`transfer_lookup_key=true\` to move it.`,
        'lookup_key',
      );
    }
    const before = copy(other);
    other.lookup_key = null;
    emit(sim, 'price.updated', other, request, before);
  }
}

/** `POST /v1/prices`: `unit_amount`, `currency`, `product` or `product_data`, optional `recurring`. */
export function createPrice(sim: Sim, params: Params, request?: RequestContext): Price {
  const currency = readString(params, 'currency', true).toLowerCase();
  const unitAmount = readInt(params, 'unit_amount', true);
  if (unitAmount < 0) throw invalidRequest('This value must be greater than or equal to 0.', 'unit_amount');
  const recurring = readRecurring(params);
  const productData = readHash(params, 'product_data');
  let productId = readString(params, 'product');
  if (productId) requireProduct(sim, productId, 'product');
  else if (Object.keys(productData).length > 0) productId = createProduct(sim, productData, request).id;
  else throw invalidRequest('Missing required param: product.', 'product', 'parameter_missing');
  const lookupKey = readNullableString(params, 'lookup_key') ?? null;
  claimLookupKey(sim, lookupKey, readBool(params, 'transfer_lookup_key') ?? false, request);
  const price: Price = {
    id: sim.ids.next('price'),
    object: 'price',
    active: readBool(params, 'active') ?? true,
    billing_scheme: 'per_unit',
    created: nowFor(sim, null),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: lookupKey,
    metadata: applyMetadata({}, params),
    nickname: readNullableString(params, 'nickname') ?? null,
    product: productId,
    recurring,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
  };
  sim.prices.set(price.id, price);
  emit(sim, 'price.created', price, request);
  return price;
}

/** Amounts and intervals of a price are fixed in Stripe; only these change. */
export function updatePrice(sim: Sim, id: string, params: Params, request?: RequestContext): Price {
  const price = requirePrice(sim, id);
  const before = copy(price);
  atomically(price, () => {
    price.active = readBool(params, 'active') ?? price.active;
    const nickname = readNullableString(params, 'nickname');
    if (nickname !== undefined) price.nickname = nickname;
    price.metadata = applyMetadata(price.metadata, params);
    const lookupKey = readNullableString(params, 'lookup_key');
    if (lookupKey !== undefined && lookupKey !== price.lookup_key) {
      // last: it may take the key from another price, which must not happen for a rejected request
      claimLookupKey(sim, lookupKey, readBool(params, 'transfer_lookup_key') ?? false, request);
      price.lookup_key = lookupKey;
    }
  });
  emit(sim, 'price.updated', price, request, before);
  return price;
}

export function listPrices(sim: Sim, params: Params) {
  const active = readBool(params, 'active');
  const product = readString(params, 'product');
  const type = readEnum(params, 'type', ['one_time', 'recurring']);
  const lookupKeys = readStringList(params, 'lookup_keys');
  const items = newestFirst(
    sim.prices.values(),
    (price) =>
      (active === undefined || price.active === active) &&
      (product === undefined || price.product === product) &&
      (type === undefined || price.type === type) &&
      (lookupKeys === undefined || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))),
  );
  return paginate(items, params, '/v1/prices', 'price');
}

/** The `plan` view of a recurring price that subscription items still carry. */
export function planOf(price: Price): Plan {
  const recurring = price.recurring as Recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    nickname: price.nickname,
    product: price.product as string,
    usage_type: 'licensed',
  };
}
