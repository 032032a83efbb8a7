import { invalidRequest } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { type Params, readInt, readString } from '../params.ts';
import type { PendingLine, Sim } from '../store.ts';
import { planOf, requirePrice } from './prices.ts';
import type { Price, Recurring, Subscription, SubscriptionItem } from './types.ts';

/** A recurring, active price for a subscription item. */
export function subscriptionPrice(sim: Sim, id: string, param: string): Price {
  const price = requirePrice(sim, id, param);
  if (!price.recurring) {
    throw invalidRequest(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      param,
    );
  }
  if (!price.active) {
    throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, param);
  }
  return price;
}

export function buildItem(
  sim: Sim,
  subscription: string,
  params: Params,
  created: number,
  index: number,
): SubscriptionItem {
  const priceId = readString(params, 'price');
  if (!priceId)
    throw invalidRequest(
      `Missing required param: items[${index}][price].`,
      `items[${index}][price]`,
      'parameter_missing',
    );
  const price = subscriptionPrice(sim, priceId, `items[${index}][price]`);
  const quantity = readInt(params, 'quantity') ?? 1;
  if (quantity < 0)
    throw invalidRequest('This value must be greater than or equal to 0.', `items[${index}][quantity]`);
  return {
    id: sim.ids.next('si'),
    object: 'subscription_item',
    created,
    current_period_end: 0,
    current_period_start: 0,
    discounts: [],
    metadata: applyMetadata({}, params),
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription,
    tax_rates: [],
  };
}

/** Stripe bills one cycle per subscription: every item's price must share currency and interval. */
export function checkItemsAgree(items: SubscriptionItem[]): { currency: string; recurring: Recurring } {
  const first = items[0];
  if (!first) throw invalidRequest('Missing required param: items.', 'items', 'parameter_missing');
  const recurring = first.price.recurring as Recurring;
  for (const item of items) {
    const other = item.price.recurring as Recurring;
    if (
      item.price.currency !== first.price.currency ||
      other.interval !== recurring.interval ||
      other.interval_count !== recurring.interval_count
    ) {
      throw invalidRequest(
        'Currency and interval fields must match across all plans on this subscription.',
        'items',
      );
    }
  }
  return { currency: first.price.currency, recurring };
}

export function setPeriod(subscription: Subscription, start: number, end: number): void {
  subscription.current_period_start = start;
  subscription.current_period_end = end;
  for (const item of subscription.items.data) {
    item.current_period_start = start;
    item.current_period_end = end;
  }
}

function money(amount: number, currency: string): string {
  const value = (Math.abs(amount) / 100).toFixed(2);
  return currency === 'usd' ? `$${value}` : `${value} ${currency.toUpperCase()}`;
}

const productName = (sim: Sim, price: Price) =>
  sim.products.get(price.product as string)?.name ?? (price.product as string);

/** The invoice lines of a whole period: one per item, or zero-amount trial lines. */
export function periodLines(
  sim: Sim,
  subscription: Subscription,
  period: { start: number; end: number },
  trial = false,
): PendingLine[] {
  return subscription.items.data.map((item) => {
    const name = productName(sim, item.price);
    const recurring = item.price.recurring as Recurring;
    return {
      amount: trial ? 0 : item.price.unit_amount * item.quantity,
      description: trial
        ? `Trial period for ${name}`
        : `${item.quantity} × ${name} (at ${money(item.price.unit_amount, item.price.currency)} / ${recurring.interval})`,
      price: item.price.id,
      product: item.price.product as string,
      quantity: item.quantity,
      subscriptionItem: item.id,
      period,
      proration: false,
    };
  });
}

/**
 * Proration for the rest of the period: credit for the unused time on what the item was, charge for
 * the remaining time on what it is now. Amounts are rounded to the cent, as Stripe rounds each line.
 */
export function prorationLines(
  sim: Sim,
  before: SubscriptionItem | undefined,
  after: SubscriptionItem | undefined,
  period: { start: number; end: number },
  now: number,
): PendingLine[] {
  const fraction = Math.max(0, Math.min(1, (period.end - now) / (period.end - period.start)));
  const when = new Date(now * 1000).toISOString().slice(0, 10);
  const lines: PendingLine[] = [];
  const line = (item: SubscriptionItem, sign: 1 | -1): PendingLine => ({
    amount: sign * Math.round(item.price.unit_amount * item.quantity * fraction),
    description: `${sign < 0 ? 'Unused' : 'Remaining'} time on ${item.quantity} × ${productName(sim, item.price)} after ${when}`,
    price: item.price.id,
    product: item.price.product as string,
    quantity: item.quantity,
    subscriptionItem: item.id,
    period: { start: now, end: period.end },
    proration: true,
  });
  if (before) lines.push(line(before, -1));
  if (after) lines.push(line(after, 1));
  return lines;
}
