import { describe, expect, it } from 'vitest';
import { flowTimeline, formatTimeline, TraceStore } from './index.ts';
import { makeSpan, newTraceId, stepSpan } from './test-spans.ts';

describe('flowTimeline', () => {
  it('gives each step’s duration and wait, and follows the work the steps set off', () => {
    const traceId = newTraceId();
    const request = makeSpan({
      traceId,
      name: 'DELETE /v1/users/me',
      kind: 'server',
      atMs: 0,
      durationMs: 10,
    });
    const commit = makeSpan({
      traceId,
      parentSpanId: request.spanId,
      name: 'pg.query:COMMIT',
      kind: 'client',
      atMs: 5,
      durationMs: 3,
    });
    const flow = { id: 'flow-7', type: 'delete-user', traceId, parentSpanId: request.spanId };
    const revoke = stepSpan(flow, 'revoke-sessions', 12, 3);
    const remove = stepSpan(flow, 'remove-memberships', 16, 4);
    // a call to a vendor: the client span is internal detail, the vendor's server span is a hop
    const client = makeSpan({
      traceId,
      parentSpanId: remove.spanId,
      name: 'POST',
      kind: 'client',
      atMs: 17,
      durationMs: 2,
    });
    const vendor = makeSpan({
      traceId,
      parentSpanId: client.spanId,
      name: 'POST /v1/customers/:id',
      kind: 'server',
      service: 'stripe',
      atMs: 17.5,
      durationMs: 1,
    });
    const eraseFailed = stepSpan(flow, 'erase-user', 21, 1, 1);
    const erase = stepSpan(flow, 'erase-user', 30, 2, 2);
    // the outbox relay runs later in its own trace, linked to the step that wrote the event
    const deliver = makeSpan({
      name: 'outbox.deliver',
      atMs: 40,
      durationMs: 3,
      links: [{ traceId, spanId: erase.spanId, attributes: {} }],
    });
    const agent = makeSpan({
      traceId: deliver.traceId,
      parentSpanId: deliver.spanId,
      name: 'apply user.deleted',
      kind: 'consumer',
      service: 'agent',
      atMs: 45,
      durationMs: 5,
    });
    const store = new TraceStore();
    store.add([request, commit, revoke, remove, client, vendor, eraseFailed, erase, deliver, agent]);

    const timeline = flowTimeline(store, 'flow-7');
    const rows = timeline.entries.map((entry) => ({
      kind: entry.kind,
      label: entry.label,
      offsetMs: entry.offsetMs,
      durationMs: entry.durationMs,
      queueDelayMs: entry.queueDelayMs,
      via: entry.cause?.via,
    }));
    expect(rows).toEqual([
      {
        kind: 'trigger',
        label: 'control-plane: DELETE /v1/users/me',
        offsetMs: 0,
        durationMs: 10,
        queueDelayMs: undefined,
        via: undefined,
      },
      {
        kind: 'step',
        label: 'step revoke-sessions',
        offsetMs: 12,
        durationMs: 3,
        queueDelayMs: 2,
        via: 'parent',
      },
      {
        kind: 'step',
        label: 'step remove-memberships',
        offsetMs: 16,
        durationMs: 4,
        queueDelayMs: 1,
        via: 'previous-step',
      },
      {
        kind: 'hop',
        label: 'stripe: POST /v1/customers/:id',
        offsetMs: 17.5,
        durationMs: 1,
        queueDelayMs: 0.5,
        via: 'parent',
      },
      {
        kind: 'step',
        label: 'step erase-user',
        offsetMs: 21,
        durationMs: 1,
        queueDelayMs: 1,
        via: 'previous-step',
      },
      {
        kind: 'step',
        label: 'step erase-user (attempt 2)',
        offsetMs: 30,
        durationMs: 2,
        queueDelayMs: 8,
        via: 'previous-step',
      },
      {
        kind: 'hop',
        label: 'control-plane: outbox.deliver',
        offsetMs: 40,
        durationMs: 3,
        queueDelayMs: 8,
        via: 'link',
      },
      {
        kind: 'hop',
        label: 'agent: apply user.deleted',
        offsetMs: 45,
        durationMs: 5,
        queueDelayMs: 2,
        via: 'parent',
      },
    ]);
    expect(timeline).toMatchObject({
      flowId: 'flow-7',
      flowType: 'delete-user',
      totalMs: 50,
      stepsMs: 10,
      queuedMs: 12,
    });
    expect(timeline.startMs).toBe(request.startMs);

    const text = formatTimeline(timeline);
    expect(text.split('\n')[0]).toBe(
      'flow flow-7 (delete-user): 4 step attempts, 50.000 ms in all, 10.000 ms in steps, 12.000 ms queued',
    );
    expect(text).toMatch(/^ {2}start ms +duration ms +queued ms +what$/m);
    expect(text).toMatch(/^ +30\.000 +2\.000 +8\.000 +step erase-user \(attempt 2\)$/m);
    expect(text).toMatch(/↳ agent: apply user\.deleted$/m);
  });

  it('measures from the trigger’s last act when the trigger waits for the flow', () => {
    const traceId = newTraceId();
    const request = makeSpan({
      traceId,
      name: 'POST /v1/orgs/:id/api-keys',
      kind: 'server',
      atMs: 0,
      durationMs: 50,
    });
    const insert = makeSpan({
      traceId,
      parentSpanId: request.spanId,
      name: 'pg.query:INSERT',
      atMs: 1,
      durationMs: 1,
    });
    const commit = makeSpan({
      traceId,
      parentSpanId: request.spanId,
      name: 'pg.query:COMMIT',
      atMs: 3,
      durationMs: 2,
    });
    const flow = { id: 'k', type: 'create-api-key', traceId, parentSpanId: request.spanId };
    const first = stepSpan(flow, 'check-quota', 6.25, 1);
    const store = new TraceStore();
    store.add([request, insert, commit, first]);
    const [, step] = flowTimeline(store, 'k').entries;
    expect(step).toMatchObject({
      label: 'step check-quota',
      queueDelayMs: 1.25,
      cause: { spanId: request.spanId },
    });
  });

  it('explains what to do when the flow has no spans', () => {
    expect(() => flowTimeline(new TraceStore(), 'nope')).toThrow(
      /PW_TRACES_FLOW_NOT_FOUND: no span has flow.id nope; wait/,
    );
  });
});
