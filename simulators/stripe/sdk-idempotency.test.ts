// Conformance with the official `stripe` SDK: idempotency keys.
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { sdkFor, startStripe } from './sdk-testing.ts';

describe('idempotency keys with the stripe SDK', () => {
  it('replays the first answer for the same key and parameters, and refuses other parameters', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const first = await stripe.customers.create(
      { email: 'ada@example.com' },
      { idempotencyKey: 'signup-42' },
    );
    const again = await stripe.customers.create(
      { email: 'ada@example.com' },
      { idempotencyKey: 'signup-42' },
    );
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.idempotencyKey).toBe('signup-42');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect((await stripe.customers.list()).data).toHaveLength(1);

    const other = await stripe.customers
      .create({ email: 'grace@example.com' }, { idempotencyKey: 'signup-42' })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(other).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    expect((other as Error).message).toMatch(/same parameters.*signup-42/);

    // another endpoint with the same key is refused too
    const elsewhere = await stripe.products
      .create({ name: 'Pro' }, { idempotencyKey: 'signup-42' })
      .catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

    // the SDK keys every POST by itself, with a fresh key each time: two calls, two customers
    await stripe.customers.create({ email: 'b@example.com' });
    await stripe.customers.create({ email: 'b@example.com' });
    expect((await stripe.customers.list({ email: 'b@example.com' })).data).toHaveLength(2);
  });

  it('saves a decline under its key, but not a rejected parameter', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const customer = await stripe.customers.create({});
    const attach = () =>
      stripe.paymentMethods
        .attach('pm_card_chargeDeclined', { customer: customer.id }, { idempotencyKey: 'attach-1' })
        .then(
          () => undefined,
          (e: unknown) => e as Stripe.errors.StripeError,
        );
    const declined = await attach();
    const replayed = await attach();
    expect(declined).toMatchObject({ statusCode: 402, decline_code: 'generic_decline' });
    expect(replayed).toMatchObject({ statusCode: 402, decline_code: 'generic_decline' });
    expect(replayed?.headers?.['idempotent-replayed']).toBe('true');

    const invalid = () =>
      stripe.customers.create(
        { email: 'x@example.com', invoice_settings: { default_payment_method: 'pm_nope' } },
        { idempotencyKey: 'bad-1' },
      );
    await expect(invalid()).rejects.toMatchObject({
      statusCode: 400,
      param: 'invoice_settings[default_payment_method]',
    });
    // a 400 for a parameter is not saved: the key is free for a corrected request
    const fixed = await stripe.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'bad-1' });
    expect(fixed.email).toBe('x@example.com');
  });

  it('answers 409 idempotency_key_in_use while the key is in flight; the SDK retries it by default', async () => {
    await using started = await startStripe({ processingMs: 300, sdk: { maxNetworkRetries: 0 } });
    const { sim, stripe } = started;
    const create = (client: Stripe, key: string) =>
      client.customers.create({ email: 'ada@example.com' }, { idempotencyKey: key });
    const first = create(stripe, 'concurrent-1');
    await sleep(50);
    const second = await create(stripe, 'concurrent-1').catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Stripe.errors.StripeError);
    expect(second).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    await first;

    // with its default retries the SDK waits, then gets the saved answer
    const retrying = sdkFor(sim, { maxNetworkRetries: 2 });
    const [a, b] = await Promise.all([
      create(retrying, 'concurrent-2'),
      sleep(50).then(() => create(retrying, 'concurrent-2')),
    ]);
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await stripe.customers.list()).data).toHaveLength(2);
  });
});
