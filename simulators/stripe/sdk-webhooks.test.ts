// Webhook delivery with the official `stripe` SDK on both ends: retries with backoff, giving up,
// faults that deliver twice or out of order, spans linked to the causing request, and one seed
// giving one journal.

import { setTimeout as sleep } from 'node:timers/promises';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsOf } from '../kit/index.ts';
import type { WebhookAttempt } from './index.ts';
import { startReceiver, startStripe } from './sdk-testing.ts';

const quickRetries = { initialDelayMs: 50, multiplier: 2, maxDelayMs: 1_000, maxAttempts: 3, jitter: 0 };

describe('webhook delivery', () => {
  it('retries with backoff when the receiver answers 500, and records every attempt', async () => {
    await using receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    await using started = await startStripe({ webhookRetry: quickRetries });
    const { sim, stripe } = started;
    const endpoint = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['customer.created'],
    });
    const customer = await stripe.customers.create({ email: 'ada@example.com' });

    const [first, second] = await receiver.waitFor((received) => received.length === 2);
    expect(first?.event.id).toBe(second?.event.id);
    const event = stripe.webhooks.constructEvent(
      second!.body,
      second!.headers['stripe-signature'] as string,
      endpoint.secret!,
    );
    expect(event).toMatchObject({ type: 'customer.created', data: { object: { id: customer.id } } });

    const admin = (await (await fetch(`${sim.url}/_sim/webhooks`)).json()) as { attempts: WebhookAttempt[] };
    expect(admin.attempts.map((a) => [a.attempt, a.ok, a.statusCode, a.eventId])).toEqual([
      [1, false, 500, event.id],
      [2, true, 200, event.id],
    ]);
    expect(Date.parse(admin.attempts[1]!.at) - Date.parse(admin.attempts[0]!.at)).toBeGreaterThanOrEqual(45);
    await expect.poll(() => sim.state.stripe.events.retrieve(event.id).pending_webhooks).toBe(0);
    const [delivery] = sim.state.stripe.webhooks.list();
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200 });
  });

  it('gives up after the last attempt; a refused connection or a redirect is a failure', async () => {
    await using redirecting = await startReceiver(() => 302);
    await using started = await startStripe({ webhookRetry: { ...quickRetries, maxAttempts: 2 } });
    const { sim, stripe } = started;
    const closed = await startReceiver();
    const nobodyListens = closed.url;
    await closed[Symbol.asyncDispose]();
    await stripe.webhookEndpoints.create({ url: nobodyListens, enabled_events: ['*'] });
    await stripe.webhookEndpoints.create({ url: redirecting.url, enabled_events: ['*'] });
    await stripe.products.create({ name: 'Pro' });
    await expect
      .poll(() => sim.state.stripe.webhooks.list().map((delivery) => delivery.status))
      .toEqual(['failed', 'failed']);
    const attempts = sim.state.attempts.list();
    expect(attempts.filter((a) => a.error === 'ECONNREFUSED')).toHaveLength(2);
    expect(attempts.filter((a) => a.statusCode === 302)).toHaveLength(2);
    expect(redirecting.received).toHaveLength(2);
  });

  it('on a frozen clock, a retry waits until the clock is advanced', async () => {
    await using receiver = await startReceiver((n) => (n === 1 ? 503 : 200));
    await using started = await startStripe({ webhookRetry: quickRetries, clock: { frozen: true } });
    const { sim, stripe } = started;
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
    await stripe.customers.create({});
    await receiver.waitFor((received) => received.length === 1);
    await sleep(200);
    expect(receiver.received).toHaveLength(1);
    await fetch(`${sim.url}/_sim/clock`, { method: 'POST', body: JSON.stringify({ advanceMs: 60 }) });
    await receiver.waitFor((received) => received.length === 2);
    expect(receiver.received.map((each) => each.status)).toEqual([503, 200]);
  });
});

describe('webhook faults', () => {
  it('delivers an event twice under a duplicate fault; both copies verify', async () => {
    await using receiver = await startReceiver();
    await using started = await startStripe({ webhookFaults: { duplicate: 1, types: ['customer.*'] } });
    const { sim, stripe } = started;
    const endpoint = await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    await stripe.customers.create({});
    await stripe.products.create({ name: 'Pro' });
    await receiver.waitFor((received) => received.length === 3);
    await sleep(50);
    expect(receiver.received.map((each) => each.event.type)).toEqual([
      'customer.created',
      'customer.created',
      'product.created',
    ]);
    const [a, b] = receiver.received.map((each) =>
      stripe.webhooks.constructEvent(each.body, each.headers['stripe-signature'] as string, endpoint.secret!),
    );
    expect(a?.id).toBe(b?.id);
    expect(sim.state.attempts.list().map((attempt) => attempt.duplicate)).toEqual([false, true, false]);
    expect(sim.state.webhookFaults.journal().entries).toMatchObject([
      { seq: 1, fault: 'duplicate', eventType: 'customer.created', eventId: a?.id },
    ]);
  });

  it('delivers an event after the next one under a reorder fault, set through the admin API', async () => {
    await using receiver = await startReceiver();
    await using started = await startStripe();
    const { sim, stripe } = started;
    const set = await fetch(`${sim.url}/_sim/webhooks/faults`, {
      method: 'POST',
      body: JSON.stringify({ reorder: 1, types: ['customer.created'], holdMs: 2_000 }),
    });
    expect(set.status).toBe(201);
    const bad = await fetch(`${sim.url}/_sim/webhooks/faults`, { method: 'POST', body: '{"reorder": 2}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/reorder/);

    await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['customer.created', 'customer.updated'],
    });
    const customer = await stripe.customers.create({});
    await sleep(100);
    expect(receiver.received).toHaveLength(0); // held back, waiting for the next event
    await stripe.customers.update(customer.id, { name: 'Ada' });
    await receiver.waitFor((received) => received.length === 2);
    expect(receiver.received.map((each) => each.event.type)).toEqual([
      'customer.updated',
      'customer.created',
    ]);
    expect(sim.state.attempts.list().map((attempt) => attempt.reordered)).toEqual([false, true]);

    // alone, a held event goes after holdMs; a reset brings back the options (no faults)
    await fetch(`${sim.url}/_sim/webhooks/faults`, { method: 'POST', body: '{"reorder": 1, "holdMs": 50}' });
    await stripe.customers.create({});
    await receiver.waitFor((received) => received.length === 3);
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect(await (await fetch(`${sim.url}/_sim/webhooks/faults`)).json()).toMatchObject({
      settings: { duplicate: 0, reorder: 0 },
      journal: { entries: [{ fault: 'reorder' }, { fault: 'reorder' }] },
    });
  });

  it('journals plain SDK traffic (its own per-call idempotency keys) alike under one seed', async () => {
    const run = async (seed: number) => {
      await using started = await startStripe({
        seed,
        sdk: { maxNetworkRetries: 0 },
        faults: [
          {
            match: { method: 'POST', path: '/v1/customers' },
            fault: { kind: 'error', status: 500 },
            probability: 0.5,
          },
        ],
      });
      for (let i = 0; i < 10; i++) {
        // no idempotencyKey: stripe-node makes up a fresh one for each call
        await started.stripe.customers.create({ email: `plain${i}@example.com` }).catch(() => undefined);
      }
      return decisionsOf(started.sim.journal.entries());
    };
    const first = await run(11);
    expect(first).toHaveLength(10);
    expect(first.every((d) => d.fingerprint.key.startsWith('sha256:'))).toBe(true);
    expect(await run(11)).toEqual(first);
  });

  it('same seed, same requests: the same fault journal, webhook faults and ids', async () => {
    const run = async (seed: number) => {
      await using receiver = await startReceiver();
      await using started = await startStripe({
        seed,
        sdk: { maxNetworkRetries: 0 },
        webhookFaults: { duplicate: 0.5, reorder: 0.5, holdMs: 20 },
        faults: [
          {
            match: { method: 'POST', path: '/v1/customers' },
            fault: { kind: 'error', status: 500 },
            probability: 0.5,
          },
        ],
      });
      const { sim, stripe } = started;
      await stripe.webhookEndpoints.create(
        { url: receiver.url, enabled_events: ['*'] },
        { idempotencyKey: 'endpoint' },
      );
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) {
        const created = await stripe.customers
          .create({ email: `c${i}@example.com` }, { idempotencyKey: `customer-${i}` })
          .then((customer) => customer.id)
          .catch((error: { statusCode: number }) => `error ${error.statusCode}`);
        outcomes.push(created);
      }
      return {
        outcomes,
        decisions: decisionsOf(sim.journal.entries()),
        webhookFaults: sim.state.webhookFaults.journal().entries,
      };
    };
    const first = await run(42);
    const second = await run(42);
    expect(second).toEqual(first);
    expect(first.decisions).toHaveLength(12);
    expect(first.outcomes.filter((outcome) => outcome === 'error 500').length).toBeGreaterThan(0);
    expect(first.webhookFaults.length).toBeGreaterThan(0);
    const other = await run(7);
    expect(other.decisions).not.toEqual(first.decisions);
  });
});

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register({ propagator: new W3CTraceContextPropagator() }));
  afterAll(() => provider.shutdown());

  it('sends each attempt in a span of its own, linked to the request that caused the event', async () => {
    await using receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    await using started = await startStripe({ webhookRetry: quickRetries });
    const { stripe } = started;
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['customer.created'] });
    const customer = await stripe.customers.create({});
    await receiver.waitFor((received) => received.length === 2);
    await sleep(20);

    const spans = exporter.getFinishedSpans();
    const request = spans.find(
      (span) =>
        span.name === 'POST /v1/customers' &&
        span.attributes['sim.request_id'] === customer.lastResponse.requestId,
    )!;
    expect(request).toBeDefined();
    const deliveries = spans.filter((span) => span.name === 'stripe.webhook.deliver');
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery.links.map((link) => link.context.spanId)).toEqual([request.spanContext().spanId]);
      expect(delivery.spanContext().traceId).not.toBe(request.spanContext().traceId);
      expect(delivery.attributes).toMatchObject({ 'stripe.event.type': 'customer.created' });
    }
    expect(deliveries.map((span) => span.attributes['http.response.status_code'])).toEqual([500, 200]);
    // the receiver sees the delivery span's context
    expect(receiver.received[1]?.headers.traceparent).toBe(
      `00-${deliveries[1]!.spanContext().traceId}-${deliveries[1]!.spanContext().spanId}-01`,
    );
  });
});
