import { describe, expect, it } from 'vitest';
import { at, eventTypes, expectStripeError, setup } from '../test-support.ts';

describe('customers', () => {
  it('creates with Stripe’s shape and an injectable clock', () => {
    const { stripe } = setup('2031-05-06T07:08:09Z');
    const customer = stripe.customers.create({
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { tenant: 'org_1' },
    });
    expect(customer).toMatchObject({
      object: 'customer',
      created: at('2031-05-06T07:08:09Z'),
      livemode: false,
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { tenant: 'org_1' },
      balance: 0,
      delinquent: false,
      test_clock: null,
      invoice_settings: { default_payment_method: null },
    });
    expect(customer.id).toMatch(/^cus_[0-9A-Za-z]{14}$/);
    expect(customer.invoice_prefix).toMatch(/^[0-9A-Z]{8}$/);
    expect(stripe.customers.retrieve(customer.id)).toEqual(customer);
  });

  it('updates fields, merges and unsets metadata, and unsets fields with empty strings', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({
      email: 'a@example.com',
      phone: '+1',
      metadata: { a: '1', b: '2' },
    });
    const updated = stripe.customers.update(customer.id, { phone: '', metadata: { a: '', c: '3' } });
    expect(updated).toMatchObject({ email: 'a@example.com', phone: null, metadata: { b: '2', c: '3' } });
    expect(stripe.customers.update(customer.id, { metadata: '' }).metadata).toEqual({});
    expectStripeError(() => stripe.customers.update(customer.id, { metadata: { ['k'.repeat(41)]: 'v' } }), {
      status: 400,
      type: 'invalid_request_error',
    });
  });

  it('deletes: the id answers deleted, its subscriptions end, lists leave it out', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = stripe.prices.create({
      currency: 'usd',
      unit_amount: 500,
      recurring: { interval: 'month' },
      product_data: { name: 'P' },
    });
    const sub = stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(stripe.customers.del(customer.id)).toEqual({ id: customer.id, object: 'customer', deleted: true });
    expect(stripe.customers.retrieve(customer.id)).toEqual({
      id: customer.id,
      object: 'customer',
      deleted: true,
    });
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('canceled');
    expect(stripe.customers.list().data).toHaveLength(0);
    expectStripeError(() => stripe.customers.update(customer.id, { name: 'x' }), {
      status: 404,
      code: 'resource_missing',
    });
    expect(eventTypes(stripe).slice(-2)).toEqual(['customer.subscription.deleted', 'customer.deleted']);
  });

  it('answers resource_missing with 404 for the path and 400 for a parameter', () => {
    const { stripe } = setup();
    expectStripeError(() => stripe.customers.retrieve('cus_nope'), {
      status: 404,
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'id',
      message: "No such customer: 'cus_nope'",
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    });
    expectStripeError(() => stripe.subscriptions.create({ customer: 'cus_nope', items: [] }), {
      status: 400,
      code: 'resource_missing',
      param: 'customer',
    });
    expectStripeError(() => stripe.customers.create({ test_clock: 'clock_nope' }), {
      status: 400,
      param: 'test_clock',
    });
  });

  it('lists newest first with filters and pagination', () => {
    const { stripe } = setup();
    const ids = ['a', 'b', 'c', 'd'].map(
      (name) => stripe.customers.create({ email: `${name}@example.com` }).id,
    );
    const page = stripe.customers.list({ limit: '3' });
    expect(page).toMatchObject({ object: 'list', url: '/v1/customers', has_more: true });
    expect(page.data.map((c) => c.id)).toEqual([ids[3], ids[2], ids[1]]);
    expect(stripe.customers.list({ starting_after: ids[1] }).data.map((c) => c.id)).toEqual([ids[0]]);
    expect(stripe.customers.list({ email: 'b@example.com' }).data.map((c) => c.id)).toEqual([ids[1]]);
  });

  it('keeps many customers cheaply in Maps', () => {
    const { stripe } = setup();
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) stripe.customers.create({ email: `c${i}@example.com` });
    expect(performance.now() - started).toBeLessThan(5_000);
    const last = stripe.customers.list({ limit: '1' }).data[0];
    expect(last?.email).toBe('c19999@example.com');
    expect(stripe.customers.retrieve(last?.id as string)).toMatchObject({ email: 'c19999@example.com' });
  });
});

describe('payment methods', () => {
  it('makes cards from tokens, pm_card names and numbers, with last4, brand and expiry', () => {
    const { stripe } = setup('2031-04-10T00:00:00Z');
    const fromToken = stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_mastercard' } });
    expect(fromToken).toMatchObject({
      object: 'payment_method',
      type: 'card',
      customer: null,
      card: { brand: 'mastercard', last4: '4444', exp_month: 4, exp_year: 2036, funding: 'credit' },
    });
    const fromNumber = stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4000056655665556', exp_month: '7', exp_year: '32' },
      billing_details: { name: 'Ada', address: { country: 'GB' } },
    });
    expect(fromNumber).toMatchObject({
      card: { brand: 'visa', funding: 'debit', exp_month: 7, exp_year: 2032 },
      billing_details: { name: 'Ada', address: { country: 'GB', city: null } },
    });
    expect(stripe.paymentMethods.retrieve('pm_card_amex').card.brand).toBe('amex');
    expectStripeError(() => stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_bogus' } }), {
      status: 400,
      code: 'resource_missing',
      param: 'card[token]',
    });
    expectStripeError(
      () =>
        stripe.paymentMethods.create({
          type: 'card',
          card: { number: '4242424242424242', exp_month: '3', exp_year: '2031' },
        }),
      { status: 402, type: 'card_error', code: 'invalid_expiry_month' },
    );
    expectStripeError(
      () =>
        stripe.paymentMethods.create({
          type: 'card',
          card: { number: '4242424242424242', exp_month: '13', exp_year: '2033' },
        }),
      { status: 402, code: 'invalid_expiry_month', param: 'exp_month' },
    );
  });

  it('attaches, sets the default, and detaches (clearing the default)', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({});
    const pm = stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(pm.customer).toBe(customer.id);
    expect(
      stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } })
        .invoice_settings,
    ).toMatchObject({ default_payment_method: pm.id });
    const withDefault = stripe.customers.retrieve(customer.id, {
      expand: ['invoice_settings.default_payment_method'],
    });
    expect((withDefault as any).invoice_settings.default_payment_method).toMatchObject({
      id: pm.id,
      object: 'payment_method',
    });
    expect(stripe.customers.listPaymentMethods(customer.id).data.map((p) => p.id)).toEqual([pm.id]);
    const detached = stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({
      invoice_settings: { default_payment_method: null },
    });
    expect(eventTypes(stripe).slice(-4)).toEqual([
      'payment_method.attached',
      'customer.updated',
      'customer.updated',
      'payment_method.detached',
    ]);
    expectStripeError(() => stripe.paymentMethods.detach(pm.id), {
      status: 400,
      type: 'invalid_request_error',
    });
  });

  it('declines attaching decline cards (402) and accepts 0341', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({});
    expectStripeError(
      () => stripe.paymentMethods.attach('pm_card_visa_chargeDeclined', { customer: customer.id }),
      {
        status: 402,
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
      },
    );
    expectStripeError(
      () =>
        stripe.paymentMethods.attach('pm_card_visa_chargeDeclinedInsufficientFunds', {
          customer: customer.id,
        }),
      {
        status: 402,
        decline_code: 'insufficient_funds',
      },
    );
    expectStripeError(
      () => stripe.customers.create({ payment_method: 'pm_card_chargeDeclinedExpiredCard' }),
      {
        status: 402,
        code: 'expired_card',
      },
    );
    // a failed create leaves no customer behind
    expect(stripe.customers.list().data).toHaveLength(1);
    expect(
      stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id }).customer,
    ).toBe(customer.id);
  });

  it('requires a default payment method to be the customer’s', () => {
    const { stripe } = setup();
    const a = stripe.customers.create({});
    const b = stripe.customers.create({});
    const pm = stripe.paymentMethods.attach('pm_card_visa', { customer: a.id });
    expectStripeError(
      () => stripe.customers.update(b.id, { invoice_settings: { default_payment_method: pm.id } }),
      {
        status: 400,
        param: 'invoice_settings[default_payment_method]',
        message: `The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`,
      },
    );
    expectStripeError(() => stripe.paymentMethods.attach(pm.id, { customer: b.id }), { status: 400 });
  });

  it('updates the expiry (a renewed card) and metadata', () => {
    const { stripe } = setup();
    const pm = stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 1, exp_year: 2032 },
    });
    const updated = stripe.paymentMethods.update(pm.id, {
      card: { exp_year: '2035' },
      metadata: { source: 'updater' },
    });
    expect(updated).toMatchObject({
      card: { exp_month: 1, exp_year: 2035 },
      metadata: { source: 'updater' },
    });
    expect(eventTypes(stripe).at(-1)).toBe('payment_method.updated');
  });
});
