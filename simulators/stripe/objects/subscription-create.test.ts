import { describe, expect, it } from 'vitest';
import { at, eventsOf, eventTypes, expectStripeError, plan, setup } from '../test-support.ts';

function payingCustomer(card = 'pm_card_visa') {
  const { stripe, clock } = setup('2031-01-01T00:00:00Z');
  const customer = stripe.customers.create({
    payment_method: card,
    invoice_settings: { default_payment_method: card },
  });
  return { stripe, clock, customer };
}

describe('subscriptions: create', () => {
  it('charges the first invoice at once and goes active', () => {
    const { stripe, customer } = payingCustomer();
    const price = plan(stripe, 2000);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id, quantity: '3' }],
      metadata: { tenant: 'org_1' },
      expand: ['latest_invoice.payment_intent', 'customer'],
    });
    expect(sub).toMatchObject({
      object: 'subscription',
      status: 'active',
      currency: 'usd',
      customer: { id: customer.id, object: 'customer' },
      start_date: at('2031-01-01T00:00:00Z'),
      current_period_start: at('2031-01-01T00:00:00Z'),
      current_period_end: at('2031-02-01T00:00:00Z'),
      metadata: { tenant: 'org_1' },
      items: {
        object: 'list',
        data: [
          {
            object: 'subscription_item',
            quantity: 3,
            price: { id: price.id },
            plan: { id: price.id, amount: 2000 },
          },
        ],
      },
      latest_invoice: {
        billing_reason: 'subscription_create',
        amount_due: 6000,
        amount_paid: 6000,
        status: 'paid',
        paid: true,
        subscription: sub.id,
        parent: { subscription_details: { subscription: sub.id } },
        payment_intent: { status: 'succeeded', amount: 6000 },
        lines: {
          data: [{ amount: 6000, quantity: 3, description: '3 × Pro (at $20.00 / month)', proration: false }],
        },
      },
    });
    expect(sub.id).toMatch(/^sub_/);
    expect((sub.latest_invoice as any).id).toMatch(/^in_/);
    expect((sub.latest_invoice as any).number).toMatch(/^[0-9A-Z]{8}-0001$/);
    expect(eventTypes(stripe).filter((type) => type.startsWith('customer.subscription'))).toEqual([
      'customer.subscription.created',
      'customer.subscription.updated',
    ]);
    expect(eventsOf(stripe, 'customer.subscription.updated')[0]?.data.previous_attributes).toEqual({
      status: 'incomplete',
    });
  });

  it('leaves it incomplete when the first charge fails (allow_incomplete)', () => {
    const { stripe, customer } = payingCustomer('pm_card_chargeCustomerFail');
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: ['latest_invoice.payment_intent'],
    });
    expect(sub.status).toBe('incomplete');
    expect((sub.latest_invoice as any).payment_intent).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
    });
    expect((sub.latest_invoice as any).next_payment_attempt).toBeNull();
    // paying the invoice with a good card activates it
    stripe.invoices.pay((sub.latest_invoice as any).id, { payment_method: 'pm_card_visa' });
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('active');
  });

  it('answers 402 and creates nothing with error_if_incomplete', () => {
    const { stripe, customer } = payingCustomer('pm_card_chargeCustomerFail');
    const price = plan(stripe);
    const before = stripe.snapshot().events.length;
    expectStripeError(
      () =>
        stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: price.id }],
          payment_behavior: 'error_if_incomplete',
        }),
      { status: 402, type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' },
    );
    expect(stripe.subscriptions.list({ status: 'all' }).data).toHaveLength(0);
    expect(stripe.snapshot().events.length).toBe(before);
  });

  it('does not charge with default_incomplete, leaving the intent to confirm', () => {
    const { stripe, customer } = payingCustomer();
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      payment_behavior: 'default_incomplete',
      expand: ['latest_invoice.payment_intent'],
    });
    const intent = (sub.latest_invoice as any).payment_intent;
    expect(sub.status).toBe('incomplete');
    expect(intent).toMatchObject({
      status: 'requires_confirmation',
      client_secret: expect.stringMatching(/^pi_.+_secret_/),
    });
    // confirming the invoice's intent pays the invoice and activates the subscription
    stripe.paymentIntents.confirm(intent.id);
    expect(stripe.invoices.retrieve((sub.latest_invoice as any).id).status).toBe('paid');
    expect(stripe.subscriptions.retrieve(sub.id).status).toBe('active');
  });

  it('starts a trial from trial_end, with a $0 invoice', () => {
    const { stripe } = setup('2031-01-01T00:00:00Z');
    const customer = stripe.customers.create({});
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_end: String(at('2031-01-31T00:00:00Z')),
      expand: ['latest_invoice'],
    });
    expect(sub).toMatchObject({
      status: 'trialing',
      trial_end: at('2031-01-31T00:00:00Z'),
      billing_cycle_anchor: at('2031-01-31T00:00:00Z'),
      latest_invoice: {
        amount_due: 0,
        status: 'paid',
        lines: { data: [{ amount: 0, description: 'Trial period for Pro' }] },
      },
    });
  });

  it('validates its parameters', () => {
    const { stripe, customer } = payingCustomer();
    const monthly = plan(stripe, 1000, 'month');
    const yearly = plan(stripe, 10000, 'year');
    const oneTime = stripe.prices.create({
      currency: 'usd',
      unit_amount: 100,
      product_data: { name: 'Setup' },
    });
    expectStripeError(() => stripe.subscriptions.create({ items: [{ price: monthly.id }] }), {
      status: 400,
      code: 'parameter_missing',
      param: 'customer',
    });
    expectStripeError(() => stripe.subscriptions.create({ customer: customer.id }), {
      status: 400,
      param: 'items',
    });
    expectStripeError(
      () => stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_nope' }] }),
      {
        status: 400,
        code: 'resource_missing',
        param: 'items[0][price]',
      },
    );
    expectStripeError(
      () => stripe.subscriptions.create({ customer: customer.id, items: [{ price: oneTime.id }] }),
      {
        status: 400,
        param: 'items[0][price]',
      },
    );
    expectStripeError(
      () =>
        stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: monthly.id }, { price: yearly.id }],
        }),
      {
        status: 400,
        message: 'Currency and interval fields must match across all plans on this subscription.',
      },
    );
    expectStripeError(
      () =>
        stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: monthly.id }],
          trial_end: String(at('2030-01-01T00:00:00Z')),
        }),
      { status: 400, param: 'trial_end' },
    );
    expectStripeError(
      () =>
        stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: monthly.id }],
          payment_behavior: 'hope',
        }),
      { status: 400, param: 'payment_behavior' },
    );
  });
});
