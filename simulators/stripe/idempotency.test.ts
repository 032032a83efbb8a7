import { describe, expect, it } from 'vitest';
import { StripeError } from './errors.ts';
import { createIdempotencyStore, fingerprint } from './idempotency.ts';
import { setup } from './test-support.ts';

const request = (params: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
  scope: 'sk_test_1',
  key: 'key-1',
  method: 'POST',
  path: '/v1/customers',
  params,
  ...overrides,
});

describe('idempotency keys', () => {
  it('replays the saved first response for the same key and parameters, without running again', async () => {
    const { stripe, clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    let runs = 0;
    const create = () =>
      store.execute(request({ email: 'a@example.com', metadata: { x: '1', y: '2' } }), () => {
        runs++;
        return { status: 200, body: stripe.customers.create({ email: 'a@example.com' }) };
      });
    const first = await create();
    const second = await store.execute(
      request({ metadata: { y: '2', x: '1' }, email: 'a@example.com' }),
      () => {
        throw new Error('must not run');
      },
    );
    expect(first.replayed).toBe(false);
    expect(second).toEqual({ ...first, replayed: true });
    expect(runs).toBe(1);
    expect(stripe.customers.list().data).toHaveLength(1);
  });

  it('answers idempotency_error (400) for other parameters or another endpoint', async () => {
    const { clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    await store.execute(request({ email: 'a@example.com' }), () => ({ status: 200, body: { id: 'cus_1' } }));
    const other = await store.execute(request({ email: 'b@example.com' }), () => ({ status: 200, body: {} }));
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({
      error: {
        type: 'idempotency_error',
        message: expect.stringContaining("Try using a key other than 'key-1'"),
      },
    });
    const elsewhere = await store.execute(
      request({ email: 'a@example.com' }, { path: '/v1/products' }),
      () => ({
        status: 200,
        body: {},
      }),
    );
    expect(elsewhere.status).toBe(400);
    expect((elsewhere.body as any).error.message).toContain(
      "same endpoint they were first used for ('/v1/products' vs '/v1/customers')",
    );
  });

  it('answers 409 idempotency_key_in_use while the first request is still running', async () => {
    const { clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    let finish!: () => void;
    const running = store.execute(request({ a: '1' }), async () => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return { status: 200, body: { ok: true } };
    });
    const concurrent = await store.execute(request({ a: '1' }), () => ({ status: 200, body: {} }));
    expect(concurrent.status).toBe(409);
    expect(concurrent.body).toMatchObject({
      error: { type: 'invalid_request_error', code: 'idempotency_key_in_use' },
    });
    finish();
    expect((await running).status).toBe(200);
    expect((await store.execute(request({ a: '1' }), () => ({ status: 500, body: {} }))).replayed).toBe(true);
  });

  it('models begin/finish/release for the HTTP layer', () => {
    const { clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    const started = store.begin(request({ a: '1' }));
    expect(started.kind).toBe('execute');
    expect(() => store.begin(request({ a: '1' }))).toThrow(StripeError);
    if (started.kind === 'execute') store.release(started.handle);
    // released: the key is free again, for any parameters
    const again = store.begin(request({ a: '2' }));
    if (again.kind !== 'execute') throw new Error('expected execute');
    store.finish(again.handle, { status: 201, body: { n: 1 } });
    expect(store.begin(request({ a: '2' }))).toEqual({
      kind: 'replay',
      response: { status: 201, body: { n: 1 } },
    });
  });

  it('saves card errors (the request ran) but not rejected parameters', async () => {
    const { stripe, clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    const customer = stripe.customers.create({});
    const decline = () =>
      store.execute(
        request({ pm: 'decline' }, { key: 'k-decline', path: '/v1/payment_methods/x/attach' }),
        () => ({
          status: 200,
          body: stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id }),
        }),
      );
    const first = await decline();
    expect(first.status).toBe(402);
    expect((await decline()).replayed).toBe(true);

    let runs = 0;
    const invalid = () =>
      store.execute(request({}, { key: 'k-invalid' }), () => {
        runs++;
        return { status: 200, body: stripe.prices.create({}) };
      });
    expect((await invalid()).status).toBe(400);
    expect((await invalid()).replayed).toBe(false);
    expect(runs).toBe(2);
  });

  it('keeps keys per scope, expires them after 24 hours and bounds how many it keeps', async () => {
    const { clock } = setup();
    const store = createIdempotencyStore({ now: clock.now, maxKeys: 3 });
    const ok = () => ({ status: 200, body: {} });
    await store.execute(request({ a: '1' }), ok);
    expect((await store.execute(request({ a: '2' }, { scope: 'sk_test_2' }), ok)).status).toBe(200);
    clock.advanceMs(24 * 3_600_000);
    expect((await store.execute(request({ a: '3' }), ok)).replayed).toBe(false);
    for (let i = 0; i < 10; i++) await store.execute(request({}, { key: `k${i}` }), ok);
    expect(store.size).toBeLessThanOrEqual(3);
  });

  it('rejects keys longer than 255 characters', async () => {
    const { clock } = setup();
    const store = createIdempotencyStore({ now: clock.now });
    const answer = await store.execute(request({}, { key: 'k'.repeat(256) }), () => ({
      status: 200,
      body: {},
    }));
    expect(answer.status).toBe(400);
  });

  it('fingerprints ignore key order but not values', () => {
    expect(fingerprint({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(fingerprint({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});
