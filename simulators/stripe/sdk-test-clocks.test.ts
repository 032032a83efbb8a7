// Conformance with the official `stripe` SDK: a test clock runs a subscription's life (trial end,
// renewal, a failed payment once the card has expired), and the resulting events reach a webhook
// endpoint signed so that `stripe.webhooks.constructEvent` accepts them.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startReceiver, startStripe, unix } from './sdk-testing.ts';

/** Advances a test clock and polls it until ready, as an application using the SDK would. */
async function advance(stripe: Stripe, clockId: string, iso: string): Promise<Stripe.TestHelpers.TestClock> {
  const answer = await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: unix(iso) });
  expect(answer.status).toBe('advancing');
  for (;;) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return clock;
  }
}

describe('test clocks with the stripe SDK', () => {
  it('runs the trial end, a renewal and an expired card failing; invoice.payment_failed arrives signed', async () => {
    await using receiver = await startReceiver();
    await using started = await startStripe();
    const { sim, stripe } = started;
    const endpoint = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['invoice.paid', 'invoice.payment_failed', 'customer.subscription.updated'],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).secret).toBeUndefined();

    const testClock = await stripe.testHelpers.testClocks.create({
      frozen_time: unix('2031-01-01T00:00:00Z'),
      name: 'expiring card',
    });
    // a card that expires at the end of February 2031
    const card = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 2, exp_year: 2031, cvc: '123' },
    });
    const customer = await stripe.customers.create({
      email: 'owner@example.com',
      test_clock: testClock.id,
      payment_method: card.id,
      invoice_settings: { default_payment_method: card.id },
    });
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 2_000,
      recurring: { interval: 'month' },
      product_data: { name: 'Pro' },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 14,
    });
    expect(sub).toMatchObject({ status: 'trialing', test_clock: testClock.id });

    // the trial ends on January 15th: the first invoice is paid
    expect((await advance(stripe, testClock.id, '2031-01-16T00:00:00Z')).frozen_time).toBe(
      unix('2031-01-16T00:00:00Z'),
    );
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'active' });
    // February 15th: renewed with the card still good
    await advance(stripe, testClock.id, '2031-02-16T00:00:00Z');
    const paid = await stripe.invoices.list({ subscription: sub.id, status: 'paid' });
    expect(paid.data.map((invoice) => invoice.created)).toEqual([
      unix('2031-02-15T00:00:00Z'),
      unix('2031-01-15T00:00:00Z'),
      unix('2031-01-01T00:00:00Z'),
    ]);
    // March 15th: the card has expired, the renewal fails and the subscription is past due
    await advance(stripe, testClock.id, '2031-03-16T00:00:00Z');
    const pastDue = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(pastDue.status).toBe('past_due');
    expect(pastDue.latest_invoice).toMatchObject({ status: 'open', attempt_count: 1 });

    await receiver.waitFor(() => receiver.ofType('invoice.payment_failed').length === 1);
    const delivered = receiver.ofType('invoice.payment_failed')[0]!;
    expect(delivered.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(delivered.headers['user-agent']).toMatch(/^Stripe\/1\.0/);
    const event = stripe.webhooks.constructEvent(
      delivered.body,
      delivered.headers['stripe-signature'] as string,
      endpoint.secret as string,
    );
    expect(event).toMatchObject({
      type: 'invoice.payment_failed',
      api_version: '2026-10-28.endive',
      created: unix('2031-03-15T00:00:00Z'),
      data: { object: { id: (pastDue.latest_invoice as Stripe.Invoice).id, customer: customer.id } },
    });
    // a signature made with another secret, or a changed body, is refused by the SDK
    expect(() =>
      stripe.webhooks.constructEvent(
        delivered.body,
        delivered.headers['stripe-signature'] as string,
        'whsec_other',
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() =>
      stripe.webhooks.constructEvent(
        delivered.body.replace('payment_failed', 'paid'),
        delivered.headers['stripe-signature'] as string,
        endpoint.secret as string,
      ),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);

    // all three paid invoices were announced too, each once, and nothing it did not ask for
    await receiver.waitFor(() => receiver.ofType('invoice.paid').length === 3);
    const types = new Set(receiver.received.map((each) => each.event.type));
    expect([...types].sort()).toEqual([
      'customer.subscription.updated',
      'invoice.paid',
      'invoice.payment_failed',
    ]);
    const listed = await stripe.events.list({ type: 'invoice.payment_failed' });
    expect(listed.data[0]?.id).toBe(event.id);
    expect(sim.state.attempts.list().every((attempt) => attempt.ok && attempt.attempt === 1)).toBe(true);
  });

  it('deletes a test clock with what lives on it', async () => {
    await using started = await startStripe();
    const { stripe } = started;
    const testClock = await stripe.testHelpers.testClocks.create({
      frozen_time: unix('2031-01-01T00:00:00Z'),
    });
    const customer = await stripe.customers.create({ test_clock: testClock.id });
    expect((await stripe.testHelpers.testClocks.list()).data.map((clock) => clock.id)).toEqual([
      testClock.id,
    ]);
    expect(await stripe.testHelpers.testClocks.del(testClock.id)).toMatchObject({ deleted: true });
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ deleted: true });
    const late = await stripe.testHelpers.testClocks
      .advance(testClock.id, { frozen_time: unix('2031-02-01T00:00:00Z') })
      .catch((e: unknown) => e);
    expect(late).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });
});
