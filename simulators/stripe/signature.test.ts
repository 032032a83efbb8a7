import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { signatureHeader, webhookPayload } from './signature.ts';
import { setup } from './test-support.ts';

const sdk = new Stripe('sk_test_simulator');

describe('webhook signatures', () => {
  it('are accepted by the official SDK', () => {
    const { stripe, clock } = setup();
    const endpoint = stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/hook',
      enabled_events: ['*'],
    });
    stripe.customers.create({ email: 'a@example.com' });
    const [delivery] = stripe.webhooks.due();
    const prepared = stripe.webhooks.prepare(delivery?.id as string);
    expect(prepared?.url).toBe('http://127.0.0.1:9/hook');
    expect(prepared?.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // the SDK checks the timestamp against the real time: verify as of the simulator's clock
    const event = sdk.webhooks.constructEvent(
      prepared?.body as string,
      prepared?.headers['stripe-signature'] as string,
      endpoint.secret as string,
      300,
      undefined,
      Math.floor(clock.now() / 1000),
    );
    expect(event).toMatchObject({
      object: 'event',
      type: 'customer.created',
      data: { object: { email: 'a@example.com' } },
    });
  });

  it('sign t.payload with HMAC-SHA256, so a changed body, secret or time fails', () => {
    const secret = 'whsec_test';
    const payload = webhookPayload({ id: 'evt_1', object: 'event' });
    const now = Math.floor(Date.now() / 1000);
    const header = signatureHeader(secret, payload, now);
    expect(sdk.webhooks.constructEvent(payload, header, secret).id).toBe('evt_1');
    expect(() => sdk.webhooks.constructEvent(`${payload} `, header, secret)).toThrow(/signature/i);
    expect(() => sdk.webhooks.constructEvent(payload, header, 'whsec_other')).toThrow(/signature/i);
    const old = signatureHeader(secret, payload, now - 3_600);
    expect(() => sdk.webhooks.constructEvent(payload, old, secret)).toThrow(/tolerance/i);
  });

  it('matches the SDK’s own test header', () => {
    const payload = '{"id":"evt_2"}';
    const expected = sdk.webhooks.generateTestHeaderString({
      payload,
      secret: 'whsec_x',
      timestamp: 1_900_000_000,
    });
    expect(signatureHeader('whsec_x', payload, 1_900_000_000)).toBe(expected);
  });
});
