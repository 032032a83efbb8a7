// The plans an organization can be on, and their prices at the payment provider. Prices are found
// by lookup key and made once (a fixed idempotency key per price), so every environment, a fresh
// Stripe account included, bills the same plans without setup by hand.
import type Stripe from 'stripe';

export const plans = ['trial', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof plans)[number];
export const paidPlans = ['starter', 'pro', 'enterprise'] as const;
export type PaidPlan = (typeof paidPlans)[number];

/** Monthly price of each paid plan, in cents (USD). A trial is billed at the starter price once it ends. */
export const monthlyPriceCents: Record<PaidPlan, number> = { starter: 2_900, pro: 9_900, enterprise: 49_900 };

/** The paid plan whose price a subscription on `plan` uses (a trial runs on starter's, free until it ends). */
export const pricedPlan = (plan: Plan): PaidPlan => (plan === 'trial' ? 'starter' : plan);

const lookupKey = (plan: PaidPlan) => `planewright_${plan}_monthly`;

/** The price id of a paid plan: looked up, or created once under a fixed idempotency key. */
export async function ensurePrice(stripe: Stripe, plan: PaidPlan): Promise<Stripe.Price> {
  const found = await stripe.prices.list({ lookup_keys: [lookupKey(plan)], active: true, limit: 1 });
  if (found.data[0]) return found.data[0];
  return stripe.prices.create(
    {
      currency: 'usd',
      unit_amount: monthlyPriceCents[plan],
      recurring: { interval: 'month' },
      lookup_key: lookupKey(plan),
      product_data: { name: `Planewright ${plan[0]!.toUpperCase()}${plan.slice(1)}` },
    },
    { idempotencyKey: `planewright-price:${lookupKey(plan)}:v1` },
  );
}
