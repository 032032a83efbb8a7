// Conformance with the official `stripe` SDK: customers, payment methods from test tokens, test
// payment methods and card numbers, and declines as the SDK's typed errors.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startStripe } from './sdk-testing.ts';

describe('customers with the stripe SDK', () => {
  it('creates, retrieves, updates, deletes and lists them, paging with autoPagingToArray', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const ada = await stripe.customers.create({
      email: 'ada@example.com',
      name: 'Ada',
      metadata: { plan: 'pro' },
    });
    expect(ada).toMatchObject({ object: 'customer', email: 'ada@example.com', livemode: false });
    expect(ada.id).toMatch(/^cus_/);
    expect(ada.lastResponse.requestId).toMatch(/^req_\w{14}$/);
    expect(ada.lastResponse.statusCode).toBe(200);

    const updated = await stripe.customers.update(ada.id, { name: 'Ada Lovelace', metadata: { team: 'a' } });
    expect(updated).toMatchObject({ name: 'Ada Lovelace', metadata: { plan: 'pro', team: 'a' } });
    expect(await stripe.customers.retrieve(ada.id)).toMatchObject({ id: ada.id, name: 'Ada Lovelace' });

    for (let i = 0; i < 24; i++) await stripe.customers.create({ email: `c${i}@example.com` });
    const page = await stripe.customers.list({ limit: 10 });
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(page.data).toHaveLength(10);
    // newest first; the SDK follows starting_after to the end
    const all = await stripe.customers.list({ limit: 7 }).autoPagingToArray({ limit: 1000 });
    expect(all).toHaveLength(25);
    expect(all[0]?.email).toBe('c23@example.com');
    expect(all.at(-1)?.id).toBe(ada.id);
    expect(new Set(all.map((customer) => customer.id)).size).toBe(25);
    const after = await stripe.customers.list({ limit: 3, starting_after: all[20]?.id });
    expect(after.data.map((customer) => customer.id)).toEqual(all.slice(21, 24).map((c) => c.id));
    expect((await stripe.customers.list({ email: 'c5@example.com' })).data).toHaveLength(1);

    const deleted = await stripe.customers.del(ada.id);
    expect(deleted).toMatchObject({ id: ada.id, object: 'customer', deleted: true });
    expect(await stripe.customers.retrieve(ada.id)).toMatchObject({ id: ada.id, deleted: true });
  });

  it('answers an unknown id with a 404 StripeInvalidRequestError and a bad parameter with a 400', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const missing = await stripe.customers.retrieve('cus_nope').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'id',
      message: "No such customer: 'cus_nope'",
    });
    expect((missing as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
    const badLimit = await stripe.customers.list({ limit: 1000 }).catch((error: unknown) => error);
    expect(badLimit).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', param: 'limit' });
  });
});

describe('payment methods with the stripe SDK', () => {
  it('attaches test tokens, test payment methods and card numbers, with a default', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
      expand: ['invoice_settings.default_payment_method'],
    });
    const byDefault = customer.invoice_settings.default_payment_method as Stripe.PaymentMethod;
    expect(byDefault).toMatchObject({ object: 'payment_method', card: { brand: 'visa', last4: '4242' } });

    const fromToken = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_mastercard' } });
    expect(fromToken.card).toMatchObject({ brand: 'mastercard', last4: '4444' });
    const fromNumber = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '378282246310005', exp_month: 12, exp_year: 2040, cvc: '1234' },
    });
    expect(fromNumber.card).toMatchObject({ brand: 'amex', last4: '0005', exp_year: 2040 });
    for (const pm of [fromToken, fromNumber]) {
      const attached = await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
      expect(attached.customer).toBe(customer.id);
    }
    const listed = await stripe.customers.listPaymentMethods(customer.id);
    expect(listed.data.map((pm) => pm.id)).toEqual([fromNumber.id, fromToken.id, byDefault.id]);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data).toHaveLength(3);

    const detached = await stripe.paymentMethods.detach(fromToken.id);
    expect(detached.customer).toBeNull();
    const again = await stripe.paymentMethods.detach(fromToken.id).catch((error: unknown) => error);
    expect(again).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 400 });
  });

  it.each([
    ['tok_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_visa_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', undefined],
  ])('refuses to attach %s with a StripeCardError (%s, %s)', async (card, code, declineCode) => {
    await using started = await startStripe();
    const { stripe } = started;
    const customer = await stripe.customers.create({});
    const pm = card.startsWith('tok_')
      ? await stripe.paymentMethods.create({ type: 'card', card: { token: card } })
      : { id: card };
    const error = await stripe.paymentMethods
      .attach(pm.id, { customer: customer.id })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code });
    // the SDK shows an absent decline_code (an expired card has none) as ''
    expect((error as Stripe.errors.StripeCardError).decline_code || undefined).toBe(declineCode);
    expect((error as Stripe.errors.StripeCardError).doc_url).toMatch(
      /^https:\/\/stripe\.com\/docs\/error-codes\//,
    );
  });

  it('declines a payment intent on a card that attached fine, with the payment intent in the error', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa_chargeCustomerFail' });
    const pm = (await stripe.customers.listPaymentMethods(customer.id)).data[0] as Stripe.PaymentMethod;
    const error = await stripe.paymentIntents
      .create({ amount: 1_500, currency: 'usd', customer: customer.id, payment_method: pm.id, confirm: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline' });
    const intent = (error as Stripe.errors.StripeCardError).payment_intent as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ object: 'payment_intent', status: 'requires_payment_method' });

    const succeeded = await stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' });
    expect(succeeded).toMatchObject({ status: 'succeeded', amount_received: 1_500 });
    const canceled = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });
    expect(await stripe.paymentIntents.cancel(canceled.id)).toMatchObject({ status: 'canceled' });
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(1);
  });
});
