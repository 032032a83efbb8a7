import { describe, expect, it } from 'vitest';
import { TraceStore } from './index.ts';
import { makeSpan, newTraceId, stepSpan } from './test-spans.ts';

const later = (ms: number, fn: () => void) => setTimeout(fn, ms);

describe('TraceStore queries', () => {
  it('finds spans by trace, flow, span id, link target, attribute and matcher', () => {
    const store = new TraceStore();
    const traceId = newTraceId();
    const request = makeSpan({
      traceId,
      name: 'POST /v1/orgs/:id/api-keys',
      kind: 'server',
      atMs: 0,
      durationMs: 30,
    });
    const flow = { id: 'flow-1', type: 'create-api-key', traceId, parentSpanId: request.spanId };
    const steps = [stepSpan(flow, 'check-quota', 2, 3), stepSpan(flow, 'activate', 6, 4)];
    const webhook = makeSpan({
      name: 'webhook.deliver',
      service: 'notify',
      atMs: 50,
      durationMs: 5,
      links: [{ traceId, spanId: steps[1]!.spanId, attributes: {} }],
    });
    store.add([request, ...steps, webhook]);

    expect(store.trace(traceId)).toEqual([request, ...steps]);
    expect(store.trace(traceId.toUpperCase())).toHaveLength(3);
    expect(store.flow('flow-1')).toEqual(steps);
    expect(store.flowIds()).toEqual(['flow-1']);
    expect(store.span(webhook.spanId)).toBe(webhook);
    expect(store.linkedTo(steps[1]!.spanId)).toEqual([webhook]);
    expect(store.childrenOf(request)).toEqual(steps);
    expect(store.withAttribute('flow.step', 'activate')).toEqual([steps[1]]);
    expect(store.withAttribute('flow.step')).toEqual(steps);
    expect(store.find('flow create-api-key *')).toEqual(steps);
    expect(store.find({ service: 'notify' })).toEqual([webhook]);
    expect(store.find({ kind: 'server', name: /api-keys$/ })).toEqual([request]);
    expect(store.find({ flow: 'create-api-key', step: 'check-*' })).toEqual([steps[0]]);
  });

  it('keeps at most maxSpans, evicting the oldest from every index, and counts them', () => {
    const store = new TraceStore({ maxSpans: 3 });
    const traceId = newTraceId();
    const flow = { id: 'f', type: 't', traceId };
    const spans = [0, 1, 2, 3, 4].map((i) => stepSpan(flow, `s${i}`, i, 1));
    store.add(spans.slice(0, 2));
    store.add(spans.slice(2));
    expect(store.size).toBe(3);
    expect(store.stats()).toEqual({ spans: 3, traces: 1, added: 5, evicted: 2 });
    expect(store.all()).toEqual(spans.slice(2));
    expect(store.trace(traceId)).toEqual(spans.slice(2));
    expect(store.flow('f')).toEqual(spans.slice(2));
    expect(store.span(spans[0]!.spanId)).toBeUndefined();
    store.add([makeSpan({ atMs: 9, durationMs: 1 })]);
    expect(store.stats()).toMatchObject({ spans: 3, traces: 2, evicted: 3 });
    expect(() => new TraceStore({ maxSpans: 0 })).toThrow(RangeError);
  });
});

describe('TraceStore.waitFor', () => {
  it('resolves as soon as the trace has the spans asked for, long before the deadline', async () => {
    const store = new TraceStore();
    const traceId = newTraceId();
    const started = performance.now();
    const waiting = store.waitFor({ traceId, count: 3 }, { timeoutMs: 10_000 });
    later(20, () => store.add([makeSpan({ traceId, atMs: 0, durationMs: 1 })]));
    later(40, () => store.add([makeSpan({ traceId: newTraceId(), atMs: 0, durationMs: 1 })]));
    later(60, () =>
      store.add([
        makeSpan({ traceId, atMs: 1, durationMs: 1 }),
        makeSpan({ traceId, atMs: 2, durationMs: 1 }),
      ]),
    );
    const spans = await waiting;
    expect(spans).toHaveLength(3);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('resolves at once when the spans are already there', async () => {
    const store = new TraceStore();
    const flow = { id: 'f-now', type: 'diagnostic', traceId: newTraceId() };
    store.add([stepSpan(flow, 'effect-1', 0, 1)]);
    await expect(
      store.waitFor({ flowId: 'f-now', names: ['flow diagnostic effect-1'] }),
    ).resolves.toHaveLength(1);
  });

  it('rejects at the deadline naming what is missing and what is there', async () => {
    const store = new TraceStore();
    const flow = { id: 'f-slow', type: 'delete-user', traceId: newTraceId() };
    store.add([stepSpan(flow, 'revoke-sessions', 0, 1)]);
    const started = performance.now();
    const error = await store
      .waitFor(
        {
          flowId: 'f-slow',
          count: 3,
          names: ['flow delete-user revoke-sessions', 'flow delete-user erase-user'],
        },
        { timeoutMs: 150 },
      )
      .catch((each: Error) => each);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1_000);
    expect(error).toMatchObject({ code: 'PW_TRACES_WAIT_TIMEOUT' });
    const message = (error as Error).message;
    expect(message).toMatch(
      /after 150 ms still missing: flow f-slow: 1 of 3 spans \(have: flow delete-user revoke-sessions\)/,
    );
    expect(message).toMatch(/no span named flow delete-user erase-user/);
    expect(message).not.toMatch(/named flow delete-user revoke-sessions/);
    expect(message).toMatch(/the store holds 1 spans in 1 traces from control-plane/);
    expect(message).toMatch(/OTEL_BSP_SCHEDULE_DELAY/);
  });

  it('says so when no span arrived at all', async () => {
    const store = new TraceStore();
    await expect(store.waitFor({ traceId: newTraceId() }, { timeoutMs: 20 })).rejects.toThrow(
      /: 0 of 1 spans \(the store holds no spans at all\)/,
    );
  });

  it('takes a function, resolving with its first truthy result', async () => {
    const store = new TraceStore();
    const waiting = store.waitFor((each) => each.find({ name: 'wanted' })[0], { timeoutMs: 5_000 });
    later(10, () => store.add([makeSpan({ name: 'other', atMs: 0, durationMs: 1 })]));
    later(20, () => store.add([makeSpan({ name: 'wanted', atMs: 1, durationMs: 2 })]));
    expect((await waiting).name).toBe('wanted');

    await expect(
      store.waitFor(
        function allErrors(each) {
          return each.find({ status: 'error' }).length > 0;
        },
        { timeoutMs: 20 },
      ),
    ).rejects.toThrow(/allErrors\(\) did not hold/);
  });

  it('stops when its signal aborts', async () => {
    const store = new TraceStore();
    const controller = new AbortController();
    const waiting = store.waitFor(
      { traceId: newTraceId() },
      { timeoutMs: 10_000, signal: controller.signal },
    );
    controller.abort(new Error('test over'));
    await expect(waiting).rejects.toThrow('test over');
  });
});
