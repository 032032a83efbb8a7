import { describe, expect, it } from 'vitest';
import { createStripeState } from './state.ts';
import { at, plan, setup } from './test-support.ts';

describe('state', () => {
  it('gives the same ids for the same seed, and again after reset', () => {
    const run = (stripe: ReturnType<typeof createStripeState>) => {
      const customer = stripe.customers.create({ payment_method: 'pm_card_visa' });
      const price = plan(stripe);
      return [customer.id, price.id, stripe.events.list().data[0]?.id];
    };
    const a = createStripeState({ seed: 7, now: () => 0 });
    const b = createStripeState({ seed: 7, now: () => 0 });
    const first = run(a);
    expect(run(b)).toEqual(first);
    a.reset();
    expect(run(a)).toEqual(first);
  });

  it('snapshots everything as plain JSON (webhook secrets included) and resets to empty', () => {
    const { stripe } = setup();
    const endpoint = stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['*'] });
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    const customer = stripe.customers.create({ test_clock: testClock.id, payment_method: 'pm_card_visa' });
    stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan(stripe).id }],
      default_payment_method: stripe.paymentMethods.list({ customer: customer.id }).data[0]?.id,
    });
    const snapshot = stripe.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.webhookEndpoints[0]).toMatchObject({ id: endpoint.id, secret: endpoint.secret });
    expect({
      customers: snapshot.customers.length,
      subscriptions: snapshot.subscriptions.length,
      invoices: snapshot.invoices.length,
      paymentIntents: snapshot.paymentIntents.length,
      testClocks: snapshot.testClocks.length,
    }).toEqual({ customers: 1, subscriptions: 1, invoices: 1, paymentIntents: 1, testClocks: 1 });
    expect(snapshot.webhookDeliveries.length).toBe(snapshot.events.length);
    // changing the snapshot changes nothing inside
    (snapshot.customers[0] as any).email = 'changed@example.com';
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({ email: null });

    stripe.reset();
    const empty = stripe.snapshot();
    expect(
      Object.values(empty).every((value) => (Array.isArray(value) ? value.length === 0 : value === 0)),
    ).toBe(true);
  });

  it('deletes a test clock with its customers and what they own', () => {
    const { stripe } = setup();
    const testClock = stripe.testClocks.create({ frozen_time: String(at('2031-01-01T00:00:00Z')) });
    const onClock = stripe.customers.create({
      test_clock: testClock.id,
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const other = stripe.customers.create({});
    stripe.subscriptions.create({ customer: onClock.id, items: [{ price: plan(stripe).id }] });
    expect(stripe.testClocks.del(testClock.id)).toEqual({
      id: testClock.id,
      object: 'test_helpers.test_clock',
      deleted: true,
    });
    const snapshot = stripe.snapshot();
    expect(snapshot.customers.map((c) => c.id)).toEqual([other.id]);
    expect(snapshot.subscriptions).toHaveLength(0);
    expect(snapshot.invoices).toHaveLength(0);
    expect(snapshot.paymentMethods).toHaveLength(0);
    expect(stripe.customers.retrieve(onClock.id)).toMatchObject({ deleted: true });
    expect(stripe.testClocks.list().data).toHaveLength(0);
  });

  it('changes nothing when an update is rejected halfway', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({ name: 'Ada', metadata: { a: '1' } });
    expect(() =>
      stripe.customers.update(customer.id, {
        name: 'Grace',
        metadata: { b: '2' },
        invoice_settings: { default_payment_method: 'pm_nope' },
      }),
    ).toThrow();
    expect(stripe.customers.retrieve(customer.id)).toMatchObject({ name: 'Ada', metadata: { a: '1' } });
    expect(stripe.events.list().data).toHaveLength(1);
  });
});
