import { describe, expect, it } from 'vitest';
import { at, eventsOf, eventTypes, expectStripeError, plan, setup } from '../test-support.ts';

function payingCustomer(card = 'pm_card_visa') {
  const { stripe, clock } = setup('2031-01-01T00:00:00Z');
  const customer = stripe.customers.create({
    payment_method: card,
    invoice_settings: { default_payment_method: card },
  });
  return { stripe, clock, customer };
}

describe('subscriptions: update and cancel', () => {
  it('prorates an upgrade onto the next invoice (create_prorations)', () => {
    const { stripe, clock, customer } = payingCustomer();
    const basic = plan(stripe, 1000, 'month', 'Basic');
    const pro = plan(stripe, 4000, 'month', 'Pro');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    // halfway through a 31-day January, moved by the simulator's clock
    clock.set('2031-01-16T12:00:00Z');
    const updated = stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: pro.id }],
    });
    expect(updated.items.data[0]).toMatchObject({
      id: sub.items.data[0]?.id,
      price: { id: pro.id },
      plan: { amount: 4000 },
    });
    expect(eventsOf(stripe, 'customer.subscription.updated').at(-1)?.data.previous_attributes).toHaveProperty(
      'items',
    );
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(1);
    clock.set('2031-02-01T00:00:01Z');
    stripe.runDue();
    const renewal = stripe.invoices.list({ subscription: sub.id }).data[0] as any;
    const lines = renewal.lines.data.map((line: any) => [line.amount, line.proration]);
    expect(lines).toEqual([
      [-500, true],
      [2000, true],
      [4000, false],
    ]);
    expect(renewal).toMatchObject({ billing_reason: 'subscription_cycle', total: 5500, amount_paid: 5500 });
  });

  it('invoices prorations now with always_invoice and not at all with none', () => {
    const { stripe, clock, customer } = payingCustomer();
    const basic = plan(stripe, 1000, 'month', 'Basic');
    const pro = plan(stripe, 4000, 'month', 'Pro');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    clock.set('2031-01-16T12:00:00Z');
    const itemId = sub.items.data[0]?.id;
    const now = stripe.subscriptions.update(sub.id, {
      items: [{ id: itemId, price: pro.id }],
      proration_behavior: 'always_invoice',
      expand: ['latest_invoice'],
    });
    expect(now.latest_invoice).toMatchObject({
      billing_reason: 'subscription_update',
      amount_paid: 1500,
      status: 'paid',
    });
    const none = stripe.subscriptions.update(sub.id, {
      items: [{ id: itemId, price: basic.id }],
      proration_behavior: 'none',
    });
    expect(none.latest_invoice).toBe((now.latest_invoice as any).id);
    clock.set('2031-02-01T00:00:01Z');
    stripe.runDue();
    expect((stripe.invoices.list({ subscription: sub.id }).data[0] as any).total).toBe(1000);
  });

  it('credits a downgrade to the customer balance, used by the next invoice', () => {
    const { stripe, clock, customer } = payingCustomer();
    const basic = plan(stripe, 1000, 'month', 'Basic');
    const pro = plan(stripe, 4000, 'month', 'Pro');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: pro.id }] });
    clock.set('2031-01-16T12:00:00Z');
    stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: basic.id }],
      proration_behavior: 'always_invoice',
    });
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({ balance: -1500 });
    clock.set('2031-02-01T00:00:01Z');
    stripe.runDue();
    const renewal = stripe.invoices.list({ subscription: sub.id }).data[0] as any;
    expect(renewal).toMatchObject({
      total: 1000,
      amount_due: 0,
      starting_balance: -1500,
      ending_balance: -500,
      status: 'paid',
    });
  });

  it('restarts the cycle when the interval changes (monthly to yearly)', () => {
    const { stripe, clock, customer } = payingCustomer();
    const monthly = plan(stripe, 1000, 'month');
    const yearly = plan(stripe, 10000, 'year');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    clock.set('2031-01-16T12:00:00Z');
    const updated = stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: yearly.id }],
      expand: ['latest_invoice'],
    });
    expect(updated).toMatchObject({
      billing_cycle_anchor: at('2031-01-16T12:00:00Z'),
      current_period_end: at('2032-01-16T12:00:00Z'),
      latest_invoice: { billing_reason: 'subscription_update', total: 9500, status: 'paid' },
    });
  });

  it('changes quantity, adds and removes items', () => {
    const { stripe, customer } = payingCustomer();
    const seat = plan(stripe, 1000, 'month', 'Seat');
    const addon = plan(stripe, 500, 'month', 'Addon');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: seat.id }] });
    expect(
      stripe.subscriptions.update(sub.id, { quantity: '5', proration_behavior: 'none' }).items.data[0]
        ?.quantity,
    ).toBe(5);
    const added = stripe.subscriptions.update(sub.id, {
      items: [{ price: addon.id }],
      proration_behavior: 'none',
    });
    expect(added.items.data.map((item) => item.price.id)).toEqual([seat.id, addon.id]);
    const removed = stripe.subscriptions.update(sub.id, {
      items: [{ id: added.items.data[1]?.id, deleted: 'true' }],
    });
    expect(removed.items.data).toHaveLength(1);
    expectStripeError(
      () =>
        stripe.subscriptions.update(sub.id, { items: [{ id: removed.items.data[0]?.id, deleted: 'true' }] }),
      {
        status: 400,
        param: 'items',
      },
    );
    expectStripeError(
      () => stripe.subscriptions.update(sub.id, { items: [{ id: 'si_nope', price: seat.id }] }),
      {
        status: 400,
        code: 'resource_missing',
      },
    );
  });

  it('ends a trial at once with trial_end=now', () => {
    const { stripe, customer } = payingCustomer();
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 30,
    });
    const ended = stripe.subscriptions.update(sub.id, { trial_end: 'now', expand: ['latest_invoice'] });
    expect(ended).toMatchObject({
      status: 'active',
      trial_end: at('2031-01-01T00:00:00Z'),
      latest_invoice: { amount_paid: 2000 },
    });
  });

  it('cancels now, and refuses to change a canceled subscription', () => {
    const { stripe, customer } = payingCustomer();
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const canceled = stripe.subscriptions.cancel(sub.id, { cancellation_details: { comment: 'too pricey' } });
    expect(canceled).toMatchObject({
      status: 'canceled',
      canceled_at: at('2031-01-01T00:00:00Z'),
      ended_at: at('2031-01-01T00:00:00Z'),
      cancellation_details: { reason: 'cancellation_requested', comment: 'too pricey' },
    });
    expect(eventTypes(stripe).at(-1)).toBe('customer.subscription.deleted');
    expectStripeError(() => stripe.subscriptions.cancel(sub.id), { status: 400 });
    expectStripeError(() => stripe.subscriptions.update(sub.id, { quantity: 2 }), { status: 400 });
    expect(stripe.subscriptions.update(sub.id, { metadata: { why: 'price' } }).metadata).toEqual({
      why: 'price',
    });
  });

  it('withdraws a pending cancellation', () => {
    const { stripe, customer } = payingCustomer();
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    const back = stripe.subscriptions.update(sub.id, { cancel_at_period_end: 'false' });
    expect(back).toMatchObject({ cancel_at_period_end: false, canceled_at: null });
  });

  it('uses a subscription’s own default payment method before the customer’s', () => {
    const { stripe, customer } = payingCustomer('pm_card_chargeCustomerFail');
    const price = plan(stripe);
    const good = stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_payment_method: good.id,
    });
    expect(sub).toMatchObject({ status: 'active', default_payment_method: good.id });
    stripe.paymentMethods.detach(good.id);
    expect(stripe.subscriptions.retrieve(sub.id).default_payment_method).toBeNull();
    expectStripeError(() => stripe.subscriptions.update(sub.id, { default_payment_method: 'pm_nope' }), {
      status: 400,
      param: 'default_payment_method',
    });
  });
});
