import qs from 'qs';
import { describe, expect, it } from 'vitest';
import { StripeError } from './errors.ts';
import { decodeForm } from './form.ts';
import { readHashList, readList } from './params.ts';
import { plan, setup } from './test-support.ts';

describe('decodeForm', () => {
  it('decodes bracket keys into nested objects and lists', () => {
    const params = decodeForm(
      'customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b' +
        '&metadata[plan]=pro&expand[]=latest_invoice.payment_intent&expand[]=customer',
    );
    expect(params).toEqual({
      customer: 'cus_1',
      items: [{ price: 'price_a', quantity: '2' }, { price: 'price_b' }],
      metadata: { plan: 'pro' },
      expand: ['latest_invoice.payment_intent', 'customer'],
    });
  });

  it('reads the indexed arrays the official SDK sends, with brackets encoded or not', () => {
    expect(decodeForm('expand%5B0%5D=data.customer&expand[1]=data.default_payment_method')).toEqual({
      expand: ['data.customer', 'data.default_payment_method'],
    });
  });

  it('decodes percent-encoding and plus signs, and keeps empty values (Stripe unsets with them)', () => {
    expect(decodeForm('email=a%2Bb%40example.com&name=Ada+Lovelace&description=')).toEqual({
      email: 'a+b@example.com',
      name: 'Ada Lovelace',
      description: '',
    });
  });

  it('accepts a query string with its question mark, a Buffer, and nothing', () => {
    expect(decodeForm('?limit=3&starting_after=cus_9')).toEqual({ limit: '3', starting_after: 'cus_9' });
    expect(decodeForm(Buffer.from('a[b][c]=1'))).toEqual({ a: { b: { c: '1' } } });
    expect(decodeForm(undefined)).toEqual({});
    expect(decodeForm('')).toEqual({});
  });

  it('does not let a key reach the prototype', () => {
    const params = decodeForm('__proto__[polluted]=yes&constructor[prototype][x]=1');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
  });

  it('rejects bodies nested deeper than Stripe ever nests as invalid_request_error', () => {
    const deep = `a${'[x]'.repeat(20)}=1`;
    expect(() => decodeForm(deep)).toThrow(StripeError);
    try {
      decodeForm(deep);
    } catch (error) {
      expect((error as StripeError).statusCode).toBe(400);
      expect((error as StripeError).type).toBe('invalid_request_error');
    }
  });

  it('gives lists with gaps back in index order through readList', () => {
    const params = decodeForm('items[2][price]=c&items[0][price]=a');
    expect(readHashList(params, 'items')).toEqual([{ price: 'a' }, { price: 'c' }]);
    expect(readList({ ids: { '10': 'k', '9': 'j' } }, 'ids')).toEqual(['j', 'k']);
  });

  it('feeds the core: a body encoded as the SDK encodes it creates the subscription it describes', () => {
    const { stripe } = setup();
    const customer = stripe.customers.create(
      decodeForm(
        'email=a%40example.com&payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa',
      ),
    );
    const price = plan(stripe, 1200);
    // the official SDK sends arrays with indices (`items[0][price]`), as qs does with this format
    const body = qs.stringify(
      {
        customer: customer.id,
        items: [{ price: price.id, quantity: 2 }],
        metadata: { plan: 'pro' },
        expand: ['latest_invoice.payment_intent'],
      },
      { arrayFormat: 'indices' },
    );
    const sub = stripe.subscriptions.create(decodeForm(body));
    expect(sub).toMatchObject({
      status: 'active',
      metadata: { plan: 'pro' },
      items: { data: [{ quantity: 2 }] },
      latest_invoice: { amount_paid: 2400, payment_intent: { status: 'succeeded' } },
    });
  });
});
