import { describe, expect, it } from 'vitest';
import { eventTypes, expectStripeError, setup } from '../test-support.ts';

describe('payment intents', () => {
  it('creates, then confirms with a good card', () => {
    const { stripe } = setup();
    const intent = stripe.paymentIntents.create({
      amount: '1999',
      currency: 'usd',
      metadata: { order: '42' },
    });
    expect(intent).toMatchObject({
      object: 'payment_intent',
      amount: 1999,
      currency: 'usd',
      status: 'requires_payment_method',
      capture_method: 'automatic',
      metadata: { order: '42' },
      client_secret: expect.stringMatching(new RegExp(`^${intent.id}_secret_`)),
    });
    const confirmed = stripe.paymentIntents.confirm(intent.id, {
      payment_method: 'pm_card_visa',
      expand: ['payment_method'],
    });
    expect(confirmed).toMatchObject({
      status: 'succeeded',
      amount_received: 1999,
      payment_method: { object: 'payment_method', card: { last4: '4242' } },
    });
    expect(eventTypes(stripe)).toEqual(['payment_intent.created', 'payment_intent.succeeded']);
  });

  it('answers each decline card with its code, keeping the failure on the intent', () => {
    const cases = [
      ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline', 'Your card was declined.'],
      [
        'pm_card_visa_chargeDeclinedInsufficientFunds',
        'card_declined',
        'insufficient_funds',
        'Your card has insufficient funds.',
      ],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card', undefined, 'Your card has expired.'],
      ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline', 'Your card was declined.'],
      [
        'pm_card_chargeDeclinedIncorrectCvc',
        'incorrect_cvc',
        undefined,
        "Your card's security code is incorrect.",
      ],
    ] as const;
    for (const [pm, code, declineCode, message] of cases) {
      const { stripe } = setup();
      const error = expectStripeError(
        () =>
          stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: pm, confirm: 'true' }),
        {
          status: 402,
          type: 'card_error',
          code,
          message,
          doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`,
        },
      );
      expect(error.body.decline_code).toBe(declineCode);
      expect(error.body.payment_intent).toMatchObject({
        status: 'requires_payment_method',
        last_payment_error: { code },
      });
      const stored = stripe.paymentIntents.list().data[0];
      expect(stored).toMatchObject({
        status: 'requires_payment_method',
        last_payment_error: { code, message },
      });
      expect(eventTypes(stripe).at(-1)).toBe('payment_intent.payment_failed');
      // the customer tries another card on the same intent
      expect(
        stripe.paymentIntents.confirm(stored?.id as string, { payment_method: 'pm_card_mastercard' }).status,
      ).toBe('succeeded');
    }
  });

  it('also takes cards made from numbers: 4000000000009995 is insufficient funds', () => {
    const { stripe } = setup();
    const pm = stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000000000009995', exp_month: 12, exp_year: 2040 },
    });
    expectStripeError(
      () =>
        stripe.paymentIntents.create({ amount: 500, currency: 'usd', payment_method: pm.id, confirm: true }),
      {
        status: 402,
        decline_code: 'insufficient_funds',
      },
    );
  });

  it('saves the card to the customer with setup_future_usage', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({});
    const intent = stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      setup_future_usage: 'off_session',
      confirm: 'true',
    });
    expect(stripe.paymentMethods.retrieve(intent.payment_method as string).customer).toBe(customer.id);
  });

  it('validates amounts and states, and cancels', () => {
    const { stripe } = setup();
    expectStripeError(() => stripe.paymentIntents.create({ currency: 'usd' }), {
      status: 400,
      param: 'amount',
      code: 'parameter_missing',
    });
    expectStripeError(() => stripe.paymentIntents.create({ amount: 10, currency: 'usd' }), {
      status: 400,
      code: 'amount_too_small',
    });
    expectStripeError(
      () => stripe.paymentIntents.create({ amount: 100, currency: 'usd', customer: 'cus_x' }),
      {
        status: 400,
        code: 'resource_missing',
        param: 'customer',
      },
    );
    expect(stripe.paymentIntents.list().data).toHaveLength(0);
    const intent = stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    expectStripeError(() => stripe.paymentIntents.confirm(intent.id), {
      status: 400,
      code: 'payment_intent_unexpected_state',
    });
    expect(stripe.paymentIntents.update(intent.id, { amount: 200, description: 'two' })).toMatchObject({
      amount: 200,
      description: 'two',
    });
    expectStripeError(() => stripe.paymentIntents.update(intent.id, { description: 'three', amount: 1 }), {
      status: 400,
    });
    expect(stripe.paymentIntents.retrieve(intent.id).description).toBe('two');
    expect(stripe.paymentIntents.cancel(intent.id, { cancellation_reason: 'abandoned' })).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
    });
    expectStripeError(() => stripe.paymentIntents.cancel(intent.id), { status: 400 });
  });
});
