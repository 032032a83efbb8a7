import { describe, expect, it } from 'vitest';
import { expectStripeError, plan, setup } from './test-support.ts';

describe('expand', () => {
  it('expands the fields the SDK asks for, one or more levels, leaving the store untouched', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = plan(stripe);
    const sub = stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: [
        'latest_invoice.payment_intent.payment_method',
        'customer.invoice_settings.default_payment_method',
      ],
    });
    const invoice = sub.latest_invoice as any;
    expect(invoice.payment_intent.payment_method).toMatchObject({
      object: 'payment_method',
      card: { brand: 'visa' },
    });
    expect((sub.customer as any).invoice_settings.default_payment_method.object).toBe('payment_method');
    // stored objects keep ids
    expect(stripe.subscriptions.retrieve(sub.id).latest_invoice).toBe(invoice.id);
    expect(stripe.invoices.retrieve(invoice.id).payment_intent).toBe(invoice.payment_intent.id);
  });

  it('expands inside lists with data.', () => {
    const { stripe } = setup();
    stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const page = stripe.customers.list({ expand: ['data.invoice_settings.default_payment_method'] });
    expect((page.data[0] as any).invoice_settings.default_payment_method.card.last4).toBe('4242');
  });

  it('shows a deleted customer as deleted, and rejects unknown or too deep paths', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create({});
    const intent = stripe.paymentIntents.create({ amount: 100, currency: 'usd', customer: customer.id });
    stripe.customers.del(customer.id);
    expect(stripe.paymentIntents.retrieve(intent.id, { expand: ['customer'] }).customer).toEqual({
      id: customer.id,
      object: 'customer',
      deleted: true,
    });
    expectStripeError(() => stripe.paymentIntents.retrieve(intent.id, { expand: ['nothing'] }), {
      status: 400,
      param: 'expand',
      message: 'This property cannot be expanded (nothing).',
    });
    expectStripeError(() => stripe.paymentIntents.retrieve(intent.id, { expand: ['a.b.c.d.e'] }), {
      status: 400,
      param: 'expand',
    });
  });
});
