import { describe, expect, it } from 'vitest';
import { typeMatches } from './events.ts';
import { expectStripeError, setup } from './test-support.ts';

describe('events', () => {
  it('records every change with the object, previous_attributes and the request', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({ email: 'a@example.com' }, { requestId: 'req_a' });
    stripe.customers.update(
      customer.id,
      { email: 'b@example.com', metadata: { plan: 'pro' } },
      { requestId: 'req_b', idempotencyKey: 'k1' },
    );
    // an update that changes nothing is not an event
    stripe.customers.update(customer.id, { email: 'b@example.com' });
    const [updated, created] = stripe.events.list().data;
    expect(created).toMatchObject({
      object: 'event',
      type: 'customer.created',
      livemode: false,
      api_version: '2026-10-28.endive',
      request: { id: 'req_a', idempotency_key: null },
      data: { object: { id: customer.id, email: 'a@example.com' } },
    });
    expect(created?.id).toMatch(/^evt_/);
    expect(created?.data.previous_attributes).toBeUndefined();
    expect(updated).toMatchObject({
      type: 'customer.updated',
      request: { id: 'req_b', idempotency_key: 'k1' },
      data: {
        object: { email: 'b@example.com' },
        previous_attributes: { email: 'a@example.com', metadata: { plan: null } },
      },
    });
    expect(stripe.events.list().data).toHaveLength(2);
    expect(stripe.events.retrieve(created?.id as string).type).toBe('customer.created');
  });

  it('keeps the object as it was when the event happened', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({ name: 'First' });
    stripe.customers.update(customer.id, { name: 'Second' });
    const created = stripe.events.list({ type: 'customer.created' }).data[0];
    expect(created?.data.object).toMatchObject({ name: 'First' });
  });

  it('filters by type (with wildcards), types[] and created, and pages', () => {
    const { stripe, clock } = setup();
    stripe.customers.create({});
    clock.advanceMs(10_000);
    const product = stripe.products.create({ name: 'Pro' });
    stripe.products.update(product.id, { name: 'Pro 2' });
    expect(stripe.events.list({ type: 'product.*' }).data.map((e) => e.type)).toEqual([
      'product.updated',
      'product.created',
    ]);
    expect(stripe.events.list({ types: ['customer.created', 'product.updated'] }).data).toHaveLength(2);
    const since = Math.floor(clock.now() / 1000);
    expect(stripe.events.list({ created: { gte: String(since) } }).data).toHaveLength(2);
    const page = stripe.events.list({ limit: '1' });
    expect(page.has_more).toBe(true);
    expect(stripe.events.list({ limit: '5', starting_after: page.data[0]?.id }).data).toHaveLength(2);
    expectStripeError(() => stripe.events.retrieve('evt_missing'), {
      status: 404,
      message: "No such event: 'evt_missing'",
    });
  });

  it('keeps at most maxEvents, dropping the oldest', () => {
    const { stripe } = setup('2031-01-01T00:00:00Z', { maxEvents: 3 });
    for (let i = 0; i < 5; i++) stripe.customers.create({ name: `c${i}` });
    const names = stripe.events.list().data.map((event) => (event.data.object as any).name);
    expect(names).toEqual(['c4', 'c3', 'c2']);
  });

  it('matches type filters', () => {
    expect(typeMatches('*', 'invoice.paid')).toBe(true);
    expect(typeMatches('invoice.*', 'invoice.payment_failed')).toBe(true);
    expect(typeMatches('invoice.*', 'customer.created')).toBe(false);
    expect(typeMatches('customer.subscription.*', 'customer.subscription.updated')).toBe(true);
    expect(typeMatches('invoice.paid', 'invoice.paid')).toBe(true);
  });
});
