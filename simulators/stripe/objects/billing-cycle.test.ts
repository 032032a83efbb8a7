import { describe, expect, it } from 'vitest';
import { at, day, eventsOf, eventTypes, expectStripeError, plan, setup } from '../test-support.ts';

/** A customer on a test clock at `startIso`, paying with a Visa that expires at the end of 02/2031. */
function clockCustomer(startIso = '2031-01-01T00:00:00Z', options: Parameters<typeof setup>[1] = {}) {
  const { stripe, clock } = setup(startIso, options);
  const testClock = stripe.testClocks.create({ frozen_time: String(at(startIso)), name: 'dunning' });
  const card = stripe.paymentMethods.create({
    type: 'card',
    card: { number: '4242424242424242', exp_month: '2', exp_year: '2031', cvc: '123' },
  });
  const customer = stripe.customers.create({
    email: 'owner@example.com',
    test_clock: testClock.id,
    payment_method: card.id,
    invoice_settings: { default_payment_method: card.id },
  });
  const price = plan(stripe);
  return { stripe, clock, testClock, customer, card, price };
}

describe('subscription billing cycle on a test clock', () => {
  it('runs trial → first invoice paid → expired card fails the renewal → new card pays → active', () => {
    const { stripe, testClock, customer, price } = clockCustomer();
    const sub = stripe.subscriptions.create(
      {
        customer: customer.id,
        items: [{ price: price.id }],
        trial_period_days: '14',
        expand: ['latest_invoice'],
      },
      { requestId: 'req_1', idempotencyKey: 'create-sub' },
    );
    expect(sub).toMatchObject({
      status: 'trialing',
      test_clock: testClock.id,
      trial_start: at('2031-01-01T00:00:00Z'),
      trial_end: at('2031-01-15T00:00:00Z'),
      current_period_end: at('2031-01-15T00:00:00Z'),
      latest_invoice: {
        object: 'invoice',
        billing_reason: 'subscription_create',
        amount_due: 0,
        status: 'paid',
      },
    });
    expect(eventsOf(stripe, 'customer.subscription.created')[0]?.request).toEqual({
      id: 'req_1',
      idempotency_key: 'create-sub',
    });

    // three days before the trial ends
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-01-13T00:00:00Z')) });
    const warning = eventsOf(stripe, 'customer.subscription.trial_will_end');
    expect(warning).toHaveLength(1);
    expect(warning[0]?.created).toBe(at('2031-01-12T00:00:00Z'));

    // the trial ends: first paid invoice
    let mark = stripe.snapshot().events.length;
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-01-16T00:00:00Z')) });
    expect(eventTypes(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.updated',
      'invoice.created',
      'payment_intent.created',
      'invoice.finalized',
      'payment_intent.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'test_helpers.test_clock.ready',
    ]);
    const afterTrial = stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payment_intent'] });
    expect(afterTrial.status).toBe('active');
    expect(afterTrial.items.data[0]).toMatchObject({
      current_period_start: at('2031-01-15T00:00:00Z'),
      current_period_end: at('2031-02-15T00:00:00Z'),
    });
    expect(afterTrial.latest_invoice).toMatchObject({
      billing_reason: 'subscription_cycle',
      amount_paid: 2000,
      status: 'paid',
      created: at('2031-01-15T00:00:00Z'),
      payment_intent: { object: 'payment_intent', status: 'succeeded', amount_received: 2000 },
    });
    const trialEnded = eventsOf(stripe, 'customer.subscription.updated').at(-1);
    expect(trialEnded?.data.previous_attributes).toMatchObject({ status: 'trialing' });

    // Feb 15: the card (02/2031) is still good
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-02-16T00:00:00Z')) });
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('active');

    // Mar 15: the card has expired
    mark = stripe.snapshot().events.length;
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-16T00:00:00Z')) });
    expect(eventTypes(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.updated',
      'invoice.created',
      'payment_intent.created',
      'invoice.finalized',
      'payment_intent.payment_failed',
      'invoice.payment_failed',
      'customer.subscription.updated',
      'test_helpers.test_clock.ready',
    ]);
    const pastDue = stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payment_intent'] });
    expect(pastDue.status).toBe('past_due');
    const failed = pastDue.latest_invoice as any;
    expect(failed).toMatchObject({
      status: 'open',
      attempt_count: 1,
      amount_remaining: 2000,
      next_payment_attempt: at('2031-03-18T00:00:00Z'),
    });
    expect(failed.payment_intent.last_payment_error).toMatchObject({
      type: 'card_error',
      code: 'expired_card',
    });
    const failure = eventsOf(stripe, 'invoice.payment_failed')[0];
    expect(failure?.created).toBe(at('2031-03-15T00:00:00Z'));
    expect(failure?.request).toEqual({ id: null, idempotency_key: null });
    expect(eventsOf(stripe, 'customer.subscription.updated').at(-1)?.data.previous_attributes).toEqual({
      status: 'active',
    });
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({ delinquent: true });

    // the customer adds a new card and the invoice is paid
    stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } });
    mark = stripe.snapshot().events.length;
    const paid = stripe.invoices.pay(failed.id);
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 2000, attempt_count: 2 });
    expect(eventTypes(stripe, mark)).toEqual([
      'payment_intent.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
    ]);
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('active');
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({ delinquent: false });
    // no retry is left scheduled for the paid invoice
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-25T00:00:00Z')) });
    expect(eventsOf(stripe, 'invoice.payment_failed')).toHaveLength(1);
  });

  it('retries a failed invoice on the retry schedule, then leaves it past due by default', () => {
    const { stripe, testClock, customer, price } = clockCustomer();
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(sub.status).toBe('active');
    // renewals on Feb 1 (good), Mar 1 (expired): attempts on Mar 1, 4, 9 and 16 (an advance
    // covers at most two monthly periods)
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-01T00:00:00Z')) });
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-20T00:00:00Z')) });
    const failures = eventsOf(stripe, 'invoice.payment_failed');
    expect(failures.map((event) => event.created)).toEqual([
      at('2031-03-01T00:00:00Z'),
      at('2031-03-04T00:00:00Z'),
      at('2031-03-09T00:00:00Z'),
      at('2031-03-16T00:00:00Z'),
    ]);
    expect(failures.at(-1)?.data.object).toMatchObject({ next_payment_attempt: null });
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('past_due');
  });

  it('cancels after the last retry when the account says so', () => {
    const { stripe, testClock, customer, price } = clockCustomer('2031-01-01T00:00:00Z', {
      afterFinalFailure: 'canceled',
      invoiceRetryDays: [1],
    });
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-01T00:00:00Z')) });
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-03-05T00:00:00Z')) });
    expect(stripe.subscriptions.retrieve(sub.id)).toMatchObject({
      status: 'canceled',
      ended_at: at('2031-03-02T00:00:00Z'),
      cancellation_details: { reason: 'payment_failed' },
    });
    expect(eventsOf(stripe, 'customer.subscription.deleted')).toHaveLength(1);
    // a canceled subscription renews no more
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-06-05T00:00:00Z')) });
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(3);
  });

  it('cancels at period end instead of renewing', () => {
    const { stripe, testClock, customer, price } = clockCustomer();
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const updated = stripe.subscriptions.update(sub.id, { cancel_at_period_end: 'true' });
    expect(updated).toMatchObject({ cancel_at_period_end: true, canceled_at: at('2031-01-01T00:00:00Z') });
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-02-10T00:00:00Z')) });
    expect(stripe.subscriptions.retrieve(sub.id)).toMatchObject({
      status: 'canceled',
      ended_at: at('2031-02-01T00:00:00Z'),
    });
    expect(stripe.invoices.list({ subscription: sub.id }).data).toHaveLength(1);
    expect(stripe.subscriptions.list({ customer: customer.id }).data).toHaveLength(0);
    expect(stripe.subscriptions.list({ customer: customer.id, status: 'canceled' }).data).toHaveLength(1);
  });

  it('ends a trial without a payment method per trial_settings', () => {
    const { stripe, clock } = setup();
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    void clock;
    const price = plan(stripe);
    const bare = (behavior: string) =>
      stripe.subscriptions.create({
        customer: stripe.customers.create({ test_clock: testClock.id }).id,
        items: [{ price: price.id }],
        trial_period_days: 7,
        trial_settings: { end_behavior: { missing_payment_method: behavior } },
      });
    const cancel = bare('cancel');
    const pause = bare('pause');
    const invoice = bare('create_invoice');
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-01-09T00:00:00Z')) });
    expect(stripe.subscriptions.retrieve(cancel.id).status).toBe('canceled');
    expect(stripe.subscriptions.retrieve(pause.id).status).toBe('paused');
    expect(stripe.subscriptions.retrieve(invoice.id).status).toBe('past_due');
    expect(eventsOf(stripe, 'customer.subscription.paused')).toHaveLength(1);
  });

  it('expires an unpaid first invoice after 23 hours', () => {
    const { stripe } = setup();
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    const customer = stripe.customers.create({
      test_clock: testClock.id,
      payment_method: 'pm_card_chargeCustomerFail',
    });
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_payment_method: (stripe.paymentMethods.list({ customer: customer.id }).data[0] as any).id,
    });
    expect(sub.status).toBe('incomplete');
    stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2031-01-02T00:00:00Z')) });
    const expired = stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(expired.status).toBe('incomplete_expired');
    expect((expired.latest_invoice as any).status).toBe('void');
  });

  it('rejects moving a clock backwards and names an unknown clock', () => {
    const { stripe } = setup();
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    expectStripeError(
      () => stripe.testClocks.advance(testClock.id, { frozen_time: String(at('2030-12-01T00:00:00Z')) }),
      {
        status: 400,
        type: 'invalid_request_error',
        param: 'frozen_time',
      },
    );
    expectStripeError(() => stripe.testClocks.retrieve('clock_missing'), {
      status: 404,
      code: 'resource_missing',
      message: "No such test_clock: 'clock_missing'",
    });
  });

  it('answers an advance as advancing and reads back ready at the target time', () => {
    const { stripe } = setup();
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    const answer = stripe.testClocks.advance(testClock.id, {
      frozen_time: String(at('2031-01-01T00:00:00Z') + day),
    });
    expect(answer).toMatchObject({
      status: 'advancing',
      status_details: { advancing: { target_frozen_time: at('2031-01-02T00:00:00Z') } },
    });
    expect(stripe.testClocks.retrieve(testClock.id)).toMatchObject({
      status: 'ready',
      frozen_time: at('2031-01-02T00:00:00Z'),
    });
  });
});

describe('billing without a test clock', () => {
  it('renews when the simulator clock moves and runDue is called', () => {
    const { stripe, clock } = setup('2031-01-01T00:00:00Z');
    const customer = stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = plan(stripe, 1500, 'month');
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(stripe.runDue()).toBe(0);
    clock.set('2031-03-02T00:00:00Z');
    expect(stripe.runDue()).toBe(2);
    const invoices = stripe.invoices.list({ subscription: sub.id }).data;
    expect(invoices.map((invoice) => [invoice.created, invoice.status, invoice.amount_paid])).toEqual([
      [at('2031-03-01T00:00:00Z'), 'paid', 1500],
      [at('2031-02-01T00:00:00Z'), 'paid', 1500],
      [at('2031-01-01T00:00:00Z'), 'paid', 1500],
    ]);
  });
});
