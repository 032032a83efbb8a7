import { describe, expect, it } from 'vitest';
import { expectStripeError, setup } from '../test-support.ts';

describe('products and prices', () => {
  it('creates a product with a custom id and a default price', () => {
    const { stripe } = setup();
    const product = stripe.products.create({
      id: 'prod_pro',
      name: 'Pro',
      default_price_data: { currency: 'usd', unit_amount: '2000', recurring: { interval: 'month' } },
      expand: ['default_price'],
    });
    expect(product).toMatchObject({
      id: 'prod_pro',
      object: 'product',
      active: true,
      name: 'Pro',
      default_price: { object: 'price', unit_amount: 2000, product: 'prod_pro', type: 'recurring' },
    });
    expectStripeError(() => stripe.products.create({ id: 'prod_pro', name: 'Again' }), {
      status: 400,
      code: 'resource_already_exists',
    });
    expectStripeError(() => stripe.products.create({}), {
      status: 400,
      code: 'parameter_missing',
      param: 'name',
    });
  });

  it('creates recurring (month/year) and one-time prices with Stripe’s shape', () => {
    const { stripe } = setup();
    const product = stripe.products.create({ name: 'Team' });
    const yearly = stripe.prices.create({
      product: product.id,
      currency: 'USD',
      unit_amount: '20000',
      recurring: { interval: 'year' },
      lookup_key: 'team_yearly',
      nickname: 'Team yearly',
    });
    expect(yearly).toMatchObject({
      object: 'price',
      currency: 'usd',
      unit_amount: 20000,
      unit_amount_decimal: '20000',
      billing_scheme: 'per_unit',
      type: 'recurring',
      recurring: { interval: 'year', interval_count: 1, usage_type: 'licensed' },
      lookup_key: 'team_yearly',
    });
    expect(yearly.id).toMatch(/^price_/);
    const setupFee = stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 500 });
    expect(setupFee).toMatchObject({ type: 'one_time', recurring: null });
    expect(stripe.prices.list({ lookup_keys: ['team_yearly'] }).data.map((p) => p.id)).toEqual([yearly.id]);
    expect(stripe.prices.list({ type: 'one_time' }).data.map((p) => p.id)).toEqual([setupFee.id]);
    expect(
      stripe.prices.list({ product: product.id, expand: ['data.product'] }).data[0]?.product,
    ).toMatchObject({
      id: product.id,
      name: 'Team',
    });
  });

  it('validates prices and keeps lookup keys unique unless transferred', () => {
    const { stripe } = setup();
    const product = stripe.products.create({ name: 'P' });
    expectStripeError(() => stripe.prices.create({ product: product.id, currency: 'usd' }), {
      status: 400,
      param: 'unit_amount',
      code: 'parameter_missing',
    });
    expectStripeError(
      () => stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 'ten' }),
      {
        status: 400,
        code: 'parameter_invalid_integer',
      },
    );
    expectStripeError(
      () =>
        stripe.prices.create({
          product: product.id,
          currency: 'usd',
          unit_amount: 1,
          recurring: { interval: 'decade' },
        }),
      { status: 400, param: 'recurring[interval]' },
    );
    expectStripeError(
      () =>
        stripe.prices.create({
          product: product.id,
          currency: 'usd',
          unit_amount: 1,
          recurring: { interval: 'month', interval_count: 13 },
        }),
      { status: 400, param: 'recurring[interval_count]' },
    );
    expectStripeError(() => stripe.prices.create({ product: 'prod_nope', currency: 'usd', unit_amount: 1 }), {
      status: 400,
      code: 'resource_missing',
      param: 'product',
    });
    const a = stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1,
      lookup_key: 'pro',
    });
    expectStripeError(
      () => stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2, lookup_key: 'pro' }),
      {
        status: 400,
        param: 'lookup_key',
      },
    );
    const b = stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 2,
      lookup_key: 'pro',
      transfer_lookup_key: 'true',
    });
    expect(stripe.prices.retrieve(a.id).lookup_key).toBeNull();
    expect(stripe.prices.update(b.id, { active: 'false', metadata: { v: '2' } })).toMatchObject({
      active: false,
      metadata: { v: '2' },
    });
  });

  it('archives products; deletes only those without prices', () => {
    const { stripe } = setup();
    const withPrice = stripe.products.create({ name: 'A' });
    stripe.prices.create({ product: withPrice.id, currency: 'usd', unit_amount: 100 });
    expectStripeError(() => stripe.products.del(withPrice.id), { status: 400 });
    expect(stripe.products.update(withPrice.id, { active: 'false' }).active).toBe(false);
    expect(stripe.products.list({ active: 'true' }).data).toHaveLength(0);
    const bare = stripe.products.create({ name: 'B' });
    expect(stripe.products.del(bare.id)).toEqual({ id: bare.id, object: 'product', deleted: true });
    expectStripeError(() => stripe.products.retrieve(bare.id), { status: 404 });
  });
});
