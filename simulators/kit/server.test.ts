// The server every simulator shares: request ids, bodies, vendor-shaped errors, tracing, and a
// graceful stop.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admin, call, elapsedSince, rawGet, startExample } from './example/testing.ts';
import { Simulator, type SimulatorState, type StartedSimulator } from './index.ts';

const state: SimulatorState = { snapshot: () => ({}), reset() {} };
const started: StartedSimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function keep<T extends StartedSimulator>(sim: Promise<T>): Promise<T> {
  started.push(await sim);
  return sim;
}

describe('requests', () => {
  it("request ids in the vendor's header, or none", async () => {
    const sim = await keep(startExample());
    const [a, b] = [await call(sim.url, '/v1/ping'), await call(sim.url, '/v1/ping')];
    expect(a.headers.get('request-id')).toMatch(/^req_[A-Za-z0-9]{14}$/);
    expect(a.headers.get('request-id')).not.toBe(b.headers.get('request-id'));

    const routes = (router: import('express').Router) => router.get('/x', (_req, res) => res.json({}));
    const generic = await keep(new Simulator({ name: 'generic', state }).withRoutes(routes).start());
    expect((await call(generic.url, '/x')).headers.get('x-request-id')).toMatch(/^req_/);
    const silent = await keep(
      new Simulator({ name: 'silent', state, requestIdHeader: null }).withRoutes(routes).start(),
    );
    const answer = await call(silent.url, '/x');
    expect(answer.headers.get('x-request-id')).toBeNull();
    expect(answer.headers.get('x-powered-by')).toBeNull();
  });

  it('bodies: JSON, form encoding with bracket keys, anything else raw; the raw bytes are kept', async () => {
    const sim = await keep(
      new Simulator({ name: 'bodies', state })
        .withRoutes((router, ctx) => {
          router.all('/echo', (req, res) => {
            res.json({
              body: Buffer.isBuffer(req.body) ? `buffer:${req.body.toString()}` : req.body,
              raw: ctx.rawBody(req)?.toString() ?? null,
              query: req.query,
              requestId: ctx.requestId(req),
            });
          });
        })
        .start(),
    );
    const json = await call(sim.url, '/echo', { method: 'POST', json: { a: [1, 2] } });
    expect(json.body).toMatchObject({ body: { a: [1, 2] }, raw: '{"a":[1,2]}' });
    const form = 'metadata[plan]=pro&expand[]=customer&expand[]=invoice&items[0][price]=p_1';
    const formAnswer = await call(sim.url, '/echo?created[gte]=5', {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(formAnswer.body).toEqual({
      body: { metadata: { plan: 'pro' }, expand: ['customer', 'invoice'], items: [{ price: 'p_1' }] },
      raw: form,
      query: { created: { gte: '5' } },
      requestId: formAnswer.headers.get('x-request-id'),
    });
    const text = await call(sim.url, '/echo', {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.body).toMatchObject({ body: 'buffer:hello', raw: 'hello' });
  });

  it("unknown routes, unreadable bodies and crashes get the vendor's error shape, never a bare 500", async () => {
    const sim = await keep(startExample());
    const unknown = await call(sim.url, '/v2/nothing', { method: 'DELETE' });
    expect(unknown).toMatchObject({
      status: 404,
      body: {
        error: { type: 'invalid_request_error', message: 'Unrecognized request URL (DELETE: /v2/nothing)' },
      },
    });
    const unreadable = await call(sim.url, '/v1/charges', {
      method: 'POST',
      body: '{"amount":',
      headers: { 'content-type': 'application/json' },
    });
    expect(unreadable.status).toBe(400);
    expect(unreadable.body.error.type).toBe('invalid_request_error');
    const tooLarge = await call(sim.url, '/v1/charges', {
      method: 'POST',
      json: { pad: 'x'.repeat(2_000_000) },
    });
    expect(tooLarge.status).toBe(413);

    const crashing = await keep(
      new Simulator({ name: 'crashing', state })
        .withRoutes((router) =>
          router.get('/boom', () => {
            throw new Error('bug in a route');
          }),
        )
        .start(),
    );
    const crash = await call(crashing.url, '/boom');
    expect(crash).toMatchObject({
      status: 500,
      body: { error: { status: 500, message: 'internal error in the crashing simulator' } },
    });
  });

  it('refuses a taken port, a bad seed and bad default rules with a clear error', async () => {
    const sim = await keep(startExample());
    await expect(new Simulator({ name: 'clash', state }).start({ port: sim.port })).rejects.toThrow(
      /PW_SIM_PORT_IN_USE: port \d+ is taken; pass --port 0 for a free one/,
    );
    await expect(new Simulator({ name: 'seedy', state, seed: -1 }).start()).rejects.toThrow(
      /PW_SIM_BAD_SEED/,
    );
    await expect(
      new Simulator({ name: 'bad-rules', state }).withFaults([{ fault: { kind: 'nope' } } as never]).start(),
    ).rejects.toThrow(/PW_SIM_BAD_RULE: \[0\]\.fault\.kind/);
  });
});

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => {
    provider.register({ propagator: new W3CTraceContextPropagator() });
  });
  afterAll(() => provider.shutdown());

  it("continues the caller's trace with one span per request; deliveries get linked spans of their own", async () => {
    const received: IncomingHttpHeaders[] = [];
    const receiver = createServer((req, res) => {
      received.push(req.headers);
      res.end();
    }).listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const sim = await keep(startExample({ webhookUrl }));
    await admin(sim.url).post('faults', {
      id: 'slow',
      match: { path: '/v1/ping' },
      fault: { kind: 'latency', ms: 1 },
    });

    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const created = await call(sim.url, '/v1/charges', {
      method: 'POST',
      json: { amount: 5 },
      headers: { traceparent },
    });
    expect(created.status).toBe(201);
    await call(sim.url, '/v1/ping', { headers: { traceparent } });
    await sim.stop(); // waits for the tracked delivery
    receiver.close();

    const spans = exporter.getFinishedSpans();
    const request = spans.find((span) => span.name === 'POST /v1/charges')!;
    expect(request.spanContext().traceId).toBe(traceId);
    expect(request.parentSpanContext?.spanId).toBe(callerSpanId);
    expect(request.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'sim.name': 'example',
      'sim.request_id': created.headers.get('request-id'),
    });
    const faulted = spans.find((span) => span.name === 'GET /v1/ping')!;
    expect(faulted.attributes).toMatchObject({ 'sim.fault.kind': 'latency', 'sim.fault.rule': 'slow' });

    const delivery = spans.find((span) => span.name === 'example.webhook.deliver')!;
    expect(delivery.spanContext().traceId).not.toBe(traceId);
    expect(delivery.parentSpanContext).toBeUndefined();
    expect(delivery.links.map((link) => link.context.spanId)).toEqual([request.spanContext().spanId]);
    // the delivery carries its own span's context to the receiver
    expect(received).toHaveLength(1);
    expect(received[0]!.traceparent).toBe(
      `00-${delivery.spanContext().traceId}-${delivery.spanContext().spanId}-01`,
    );
  });
});

describe('stop', () => {
  it('lets answers in flight finish, ends hanging requests, refuses new connections, and is idempotent', async () => {
    const sim = await startExample();
    sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'hang' } });
    const slow = call(sim.url, '/v1/slow?ms=300');
    const hanging = rawGet(`${sim.url}/v1/ping`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = performance.now();
    const stopping = sim.stop();
    expect(await hanging).toEqual({ error: 'ECONNRESET' });
    expect((await slow).status).toBe(200);
    await stopping;
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(200);
    expect(elapsedSince(start)).toBeLessThan(2_000);
    await expect(fetch(`${sim.url}/v1/ping`)).rejects.toThrow();
    await sim.stop();
    await sim[Symbol.asyncDispose]();
  });

  it('gives up on work that outlives stopTimeoutMs, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const sim = await new Simulator({ name: 'stuck', state, stopTimeoutMs: 200 })
      .withRoutes((_router, ctx) => {
        signal = ctx.signal;
        ctx.track(new Promise(() => {}));
      })
      .start();
    const start = performance.now();
    await sim.stop();
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(190);
    expect(elapsedSince(start)).toBeLessThan(1_500);
    expect(signal?.aborted).toBe(true);
  });

  it('works with await using', async () => {
    let url: string;
    {
      await using sim = await startExample();
      url = sim.url;
      expect((await call(url, '/v1/ping')).status).toBe(200);
    }
    await expect(fetch(`${url}/v1/ping`)).rejects.toThrow();
  });
});
