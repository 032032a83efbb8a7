import { describe, expect, it } from 'vitest';
import { expectStripeError, setup } from './test-support.ts';
import { fastRetryPolicy, retryDelayMs, stripeLiveRetryPolicy } from './webhook-delivery.ts';

describe('retry schedule', () => {
  it('backs off exponentially up to the cap and gives up after maxAttempts', () => {
    const middle = () => 0.5; // no jitter
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, fastRetryPolicy, middle))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect(retryDelayMs(5, fastRetryPolicy, middle)).toBeUndefined();
    expect(retryDelayMs(10, { ...stripeLiveRetryPolicy, maxAttempts: 99 }, middle)).toBe(
      stripeLiveRetryPolicy.maxDelayMs,
    );
  });

  it('spreads delays by the jitter fraction', () => {
    expect(retryDelayMs(1, fastRetryPolicy, () => 0)).toBe(450);
    expect(retryDelayMs(1, fastRetryPolicy, () => 0.999_999)).toBe(550);
  });
});

describe('webhook endpoints and deliveries', () => {
  it('delivers each event to the endpoints whose enabled_events take it', () => {
    const { stripe } = setup();
    const all = stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['*'] });
    const invoices = stripe.webhookEndpoints.create({
      url: 'https://b.example/hook',
      enabled_events: ['invoice.payment_failed', 'customer.created'],
      metadata: { team: 'billing' },
    });
    expect(all.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    // the secret is shown once, on create
    expect(stripe.webhookEndpoints.retrieve(all.id).secret).toBeUndefined();
    expect(stripe.webhooks.secret(all.id)).toBe(all.secret);

    stripe.customers.create({ email: 'a@example.com' });
    stripe.products.create({ name: 'Pro' });
    const due = stripe.webhooks.due();
    expect(due.map((delivery) => [delivery.endpointId, delivery.url])).toEqual([
      [all.id, 'https://a.example/hook'],
      [invoices.id, 'https://b.example/hook'],
      [all.id, 'https://a.example/hook'],
    ]);
    const [customerEvent] = stripe.events.list({ type: 'customer.created' }).data;
    expect(customerEvent?.pending_webhooks).toBe(2);
  });

  it('retries failed deliveries on the schedule and settles pending_webhooks', () => {
    const { stripe, clock } = setup('2031-01-01T00:00:00Z', { seed: 'jitter' });
    stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['customer.created'] });
    stripe.customers.create({});
    const [delivery] = stripe.webhooks.due();
    const id = delivery?.id as string;
    const failed = stripe.webhooks.record(id, { ok: false, statusCode: 500 });
    expect(failed).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatusCode: 500,
      lastError: 'status 500',
    });
    expect(stripe.webhooks.due()).toHaveLength(0);
    clock.advanceMs(600);
    expect(stripe.webhooks.due().map((d) => d.id)).toEqual([id]);
    expect(stripe.webhooks.record(id, { ok: true, statusCode: 200 })).toMatchObject({
      status: 'delivered',
      attempts: 2,
    });
    expect(stripe.events.list().data[0]?.pending_webhooks).toBe(0);
    expect(stripe.webhooks.record(id, { ok: false })).toMatchObject({ status: 'delivered' });
  });

  it('gives a delivery up after the last attempt', () => {
    const { stripe, clock } = setup('2031-01-01T00:00:00Z', {
      webhookRetry: { ...fastRetryPolicy, maxAttempts: 2, jitter: 0 },
    });
    stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['*'] });
    stripe.customers.create({});
    const id = stripe.webhooks.due()[0]?.id as string;
    stripe.webhooks.record(id, { ok: false, error: 'ECONNREFUSED' });
    clock.advanceMs(500);
    expect(stripe.webhooks.record(id, { ok: false, error: 'ECONNREFUSED' })).toMatchObject({
      status: 'failed',
      attempts: 2,
      nextAttemptAtMs: null,
      lastError: 'ECONNREFUSED',
    });
    expect(stripe.events.list().data[0]?.pending_webhooks).toBe(0);
  });

  it('sends nothing to disabled or deleted endpoints and gives up their pending deliveries', () => {
    const { stripe } = setup();
    const endpoint = stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['*'] });
    stripe.webhookEndpoints.update(endpoint.id, { disabled: 'true' });
    stripe.customers.create({});
    expect(stripe.webhooks.due()).toHaveLength(0);
    stripe.webhookEndpoints.update(endpoint.id, { disabled: 'false', enabled_events: ['customer.updated'] });
    const customer = stripe.customers.create({});
    stripe.customers.update(customer.id, { name: 'Ada' });
    expect(stripe.webhooks.due()).toHaveLength(1);
    expect(stripe.webhookEndpoints.del(endpoint.id)).toEqual({
      id: endpoint.id,
      object: 'webhook_endpoint',
      deleted: true,
    });
    expect(stripe.webhooks.due()).toHaveLength(0);
    expect(stripe.webhooks.list()[0]).toMatchObject({ status: 'failed', lastError: 'endpoint deleted' });
    expectStripeError(() => stripe.webhookEndpoints.retrieve(endpoint.id), {
      status: 404,
      code: 'resource_missing',
    });
  });

  it('validates url and enabled_events and lists endpoints', () => {
    const { stripe } = setup();
    expectStripeError(() => stripe.webhookEndpoints.create({ url: 'ftp://x', enabled_events: ['*'] }), {
      status: 400,
      param: 'url',
    });
    expectStripeError(() => stripe.webhookEndpoints.create({ url: 'https://x.example' }), {
      status: 400,
      code: 'parameter_missing',
      param: 'enabled_events',
    });
    expectStripeError(
      () => stripe.webhookEndpoints.create({ url: 'https://x.example', enabled_events: ['Not A Type'] }),
      {
        status: 400,
        param: 'enabled_events[0]',
      },
    );
    stripe.webhookEndpoints.create({ url: 'https://x.example', enabled_events: ['invoice.paid'] });
    expect(stripe.webhookEndpoints.list()).toMatchObject({
      object: 'list',
      url: '/v1/webhook_endpoints',
      has_more: false,
    });
  });

  it('bounds the queue, dropping finished deliveries first', () => {
    const { stripe } = setup('2031-01-01T00:00:00Z', { maxDeliveries: 3 });
    stripe.webhookEndpoints.create({ url: 'https://a.example/hook', enabled_events: ['*'] });
    stripe.customers.create({});
    stripe.webhooks.record(stripe.webhooks.due()[0]?.id as string, { ok: true });
    for (let i = 0; i < 4; i++) stripe.customers.create({});
    expect(stripe.webhooks.list()).toHaveLength(3);
    expect(stripe.webhooks.list().every((delivery) => delivery.status === 'pending')).toBe(true);
    expect(stripe.snapshot().webhookDeliveriesDropped).toBe(1);
  });
});
