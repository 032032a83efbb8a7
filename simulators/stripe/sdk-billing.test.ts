// Conformance with the official `stripe` SDK: products, prices, subscriptions with a trial, a plan
// change and cancellation, invoices and events.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startStripe } from './sdk-testing.ts';

const start = '2031-01-01T00:00:00Z';

async function catalog(stripe: Stripe) {
  const product = await stripe.products.create({ name: 'Planewright', metadata: { tier: 'all' } });
  const basic = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1_000,
    recurring: { interval: 'month' },
    lookup_key: 'basic-monthly',
  });
  const pro = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 3_000,
    recurring: { interval: 'month' },
  });
  return { product, basic, pro };
}

describe('billing with the stripe SDK', () => {
  it('lists, updates and deletes products and prices', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const { product, basic } = await catalog(stripe);
    expect(basic).toMatchObject({ object: 'price', type: 'recurring', recurring: { interval: 'month' } });
    expect((await stripe.prices.list({ product: product.id })).data).toHaveLength(2);
    expect((await stripe.prices.list({ lookup_keys: ['basic-monthly'] })).data.map((p) => p.id)).toEqual([
      basic.id,
    ]);
    expect(await stripe.prices.update(basic.id, { active: false })).toMatchObject({ active: false });
    const expanded = await stripe.prices.retrieve(basic.id, { expand: ['product'] });
    expect(expanded.product).toMatchObject({ id: product.id, name: 'Planewright' });
    expect(await stripe.products.update(product.id, { name: 'Planewright Cloud' })).toMatchObject({
      name: 'Planewright Cloud',
    });
    const loose = await stripe.products.create({ name: 'Unused' });
    expect(await stripe.products.del(loose.id)).toMatchObject({ id: loose.id, deleted: true });
    expect((await stripe.products.list()).data.map((p) => p.id)).toEqual([product.id]);
  });

  it('runs a subscription through its trial, a plan change with proration, and cancellation', async () => {
    await using started = await startStripe({ clock: { frozen: true, start } });
    const { sim, stripe } = started;
    const { basic, pro } = await catalog(stripe);
    const customer = await stripe.customers.create({
      email: 'owner@example.com',
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id, quantity: 2 }],
      trial_period_days: 7,
      expand: ['latest_invoice'],
    });
    expect(sub).toMatchObject({ status: 'trialing', trial_end: Date.parse('2031-01-08T00:00:00Z') / 1000 });
    expect(sub.latest_invoice).toMatchObject({ object: 'invoice', amount_due: 0, status: 'paid' });

    // the trial ends on the simulator clock (no test clock): the first real invoice is paid
    await sim.clock.setTo('2031-01-09T00:00:00Z');
    const active = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(active.status).toBe('active');
    expect(active.latest_invoice).toMatchObject({ amount_paid: 2_000, billing_reason: 'subscription_cycle' });

    const item = active.items.data[0] as Stripe.SubscriptionItem;
    const upgraded = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: pro.id, quantity: 1 }],
      proration_behavior: 'always_invoice',
      expand: ['latest_invoice'],
    });
    expect(upgraded.items.data[0]).toMatchObject({ price: { id: pro.id }, quantity: 1 });
    const proration = upgraded.latest_invoice as Stripe.Invoice;
    expect(proration).toMatchObject({ billing_reason: 'subscription_update', status: 'paid' });
    const lines = await stripe.invoices.listLineItems(proration.id);
    expect(lines.data.length).toBeGreaterThanOrEqual(2);

    const ending = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(ending).toMatchObject({ status: 'active', cancel_at_period_end: true });
    const canceled = await stripe.subscriptions.cancel(sub.id, { invoice_now: false, prorate: false });
    expect(canceled).toMatchObject({ status: 'canceled' });
    expect(canceled.canceled_at).toBe(Date.parse('2031-01-09T00:00:00Z') / 1000);
    expect((await stripe.subscriptions.list({ status: 'canceled' })).data.map((s) => s.id)).toEqual([sub.id]);

    const types = (await stripe.events.list({ limit: 100 })).data.map((event) => event.type);
    expect(types).toContain('customer.subscription.trial_will_end');
    expect(types).toContain('customer.subscription.deleted');
    const deleted = await stripe.events.list({ type: 'customer.subscription.*', limit: 1 });
    expect(deleted.data[0]).toMatchObject({
      type: 'customer.subscription.deleted',
      data: { object: { id: sub.id } },
    });
    expect(await stripe.events.retrieve(deleted.data[0]?.id as string)).toMatchObject({
      id: deleted.data[0]?.id,
    });
  });

  it('pays and voids invoices, and answers an impossible transition with a 400', async () => {
    await using started = await startStripe({ clock: { frozen: true, start } });
    const { stripe } = started;
    const { basic } = await catalog(stripe);
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa_chargeCustomerFail' });
    const pm = (await stripe.customers.listPaymentMethods(customer.id)).data[0]?.id as string;
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      default_payment_method: pm,
      payment_behavior: 'allow_incomplete',
    });
    expect(sub.status).toBe('incomplete');
    const invoice = (await stripe.invoices.list({ subscription: sub.id })).data[0] as Stripe.Invoice;
    expect(invoice.status).toBe('open');
    const declined = await stripe.invoices.pay(invoice.id).catch((e: unknown) => e);
    expect(declined).toMatchObject({ type: 'StripeCardError', decline_code: 'generic_decline' });
    expect(await stripe.invoices.pay(invoice.id, { payment_method: 'pm_card_visa' })).toMatchObject({
      status: 'paid',
    });
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'active' });
    const again = await stripe.invoices.voidInvoice(invoice.id).catch((e: unknown) => e);
    expect(again).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400 });
  });
});
