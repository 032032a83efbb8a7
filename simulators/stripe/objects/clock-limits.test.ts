// Long clock advances stay bounded: a test clock refuses to move more than Stripe allows (two of
// its shortest billing periods, two years with no subscription), and the simulator clock's billing
// work runs in slices of `runDueSlice` steps instead of all at once.
import { describe, expect, it } from 'vitest';
import { runDueSlice } from '../state.ts';
import { at, day, expectStripeError, plan, setup } from '../test-support.ts';

const years = (n: number) => Math.round(n * 365.25 * day);

describe('test clock advance limit', () => {
  function dailyOnClock() {
    const { stripe } = setup('2031-01-01T00:00:00Z');
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    const customer = stripe.customers.create({ test_clock: testClock.id, payment_method: 'pm_card_visa' });
    stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const price = plan(stripe, 100, 'day');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    return { stripe, testClock, sub };
  }

  it('refuses a 20-year advance with a daily subscription, as Stripe does', () => {
    const { stripe, testClock, sub } = dailyOnClock();
    const start = at('2031-01-01T00:00:00Z');
    expectStripeError(
      () => stripe.testClocks.advance(testClock.id, { frozen_time: String(start + years(20)) }),
      {
        status: 400,
        type: 'invalid_request_error',
        param: 'frozen_time',
        message: `Cannot advance a test clock more than two intervals of the shortest subscription interval on it: frozen_time must be at most ${start + 2 * day}.`,
      },
    );
    // nothing moved
    expect(stripe.testClocks.retrieve(testClock.id)).toMatchObject({ status: 'ready', frozen_time: start });
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(1);
    // one second past two days is refused too
    expectStripeError(
      () => stripe.testClocks.advance(testClock.id, { frozen_time: String(start + 2 * day + 1) }),
      { status: 400, param: 'frozen_time' },
    );
  });

  it('runs the longest allowed advance: two renewals, then the limit moves with the clock', () => {
    const { stripe, testClock, sub } = dailyOnClock();
    const start = at('2031-01-01T00:00:00Z');
    stripe.testClocks.advance(testClock.id, { frozen_time: String(start + 2 * day) });
    expect(stripe.testClocks.retrieve(testClock.id)).toMatchObject({
      status: 'ready',
      frozen_time: start + 2 * day,
    });
    // the first invoice and the renewals of Jan 2 and Jan 3
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(3);
    stripe.testClocks.advance(testClock.id, { frozen_time: String(start + 4 * day) });
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(5);
  });

  it('allows two years on a clock without subscriptions, and no more', () => {
    const { stripe } = setup('2031-01-01T00:00:00Z');
    const start = at('2031-01-01T00:00:00Z');
    const testClock = stripe.testClocks.create({ frozen_time: String(start) });
    const limit = at('2033-01-01T00:00:00Z');
    expectStripeError(() => stripe.testClocks.advance(testClock.id, { frozen_time: String(limit + 1) }), {
      status: 400,
      type: 'invalid_request_error',
      param: 'frozen_time',
      message: `Cannot advance a test clock with no subscriptions more than two years: frozen_time must be at most ${limit}.`,
    });
    stripe.testClocks.advance(testClock.id, { frozen_time: String(limit) });
    expect(stripe.testClocks.retrieve(testClock.id).frozen_time).toBe(limit);
  });

  it('counts the shortest interval: a yearly and a weekly subscription allow two weeks', () => {
    const { stripe } = setup('2031-01-01T00:00:00Z');
    const start = at('2031-01-01T00:00:00Z');
    const testClock = stripe.testClocks.create({ frozen_time: String(start) });
    const customer = stripe.customers.create({ test_clock: testClock.id, payment_method: 'pm_card_visa' });
    stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } });
    for (const interval of ['year', 'week'] as const) {
      const price = plan(stripe, 100, interval);
      stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    }
    expectStripeError(
      () => stripe.testClocks.advance(testClock.id, { frozen_time: String(start + 15 * day) }),
      {
        status: 400,
        param: 'frozen_time',
      },
    );
    stripe.testClocks.advance(testClock.id, { frozen_time: String(start + 14 * day) });
  });
});

describe('billing work of the simulator clock', () => {
  it('works off a 20-year jump in bounded slices, renewing every day once', () => {
    const { stripe, clock } = setup('2031-01-01T00:00:00Z');
    // a card good for the whole run, so every step is a paid renewal
    const card = stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: '12', exp_year: '2099', cvc: '123' },
    });
    const customer = stripe.customers.create({
      payment_method: card.id,
      invoice_settings: { default_payment_method: card.id },
    });
    const price = plan(stripe, 100, 'day');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    clock.set('2051-01-01T00:00:00Z');
    const renewals = (Date.parse('2051-01-01T00:00:00Z') - Date.parse('2031-01-01T00:00:00Z')) / 86_400_000;
    const slices: number[] = [];
    for (let steps = stripe.runDue(); steps > 0; steps = stripe.runDue()) slices.push(steps);
    expect(Math.max(...slices)).toBe(runDueSlice);
    expect(slices.reduce((sum, steps) => sum + steps, 0)).toBe(renewals);
    expect(slices).toHaveLength(Math.ceil(renewals / runDueSlice));
    const latest = stripe.subscriptions.retrieve(sub.id);
    expect(latest).toMatchObject({ status: 'active', current_period_start: at('2051-01-01T00:00:00Z') });
  });
});
