// The real thing: the control plane as a child process (its OpenTelemetry SDK is process-global,
// so it stays out of the test process) exporting to the collector, a diagnostic flow started over
// HTTP, and its timeline, SLOs and Jaeger export built from what arrived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  startTestAuth,
  type TestAuth,
  testAdminToken,
  testEnv,
} from '../../control-plane/test/support.ts';
import { startControlPlaneProcess } from '../env/index.ts';
import {
  checkSlos,
  defineSlo,
  flowTimeline,
  formatSloTable,
  formatTimeline,
  sloExitCode,
  startTraceCollector,
  toJaegerJson,
} from './index.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let auth: TestAuth;

beforeAll(async () => {
  database = await createTestDatabase();
  auth = await startTestAuth();
});
afterAll(async () => {
  await auth?.close();
  await database?.drop();
});

describe('traces of a real control plane', () => {
  it('builds a flow’s timeline, checks its SLOs and exports it to Jaeger', async () => {
    await using traces = await startTraceCollector();
    await using controlPlane = await startControlPlaneProcess({
      env: testEnv(database.url, auth, { ...traces.env, OTEL_SERVICE_NAME: 'control-plane' }),
    });
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4736';
    const started = await fetch(`${controlPlane.url}/v1/admin/diagnostics/flows`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${testAdminToken}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ count: 1, stepDelayMs: 20 }),
    });
    expect(started.status).toBe(202);
    const [flowId] = ((await started.json()) as { flowIds: string[] }).flowIds;

    const names = ['effect-1', 'effect-2', 'effect-3'].map((step) => `flow diagnostic ${step}`);
    const steps = await traces.store.waitFor({ flowId, names }, { timeoutMs: 15_000 });
    expect(steps.every((span) => span.traceId === traceId)).toBe(true);
    // the span the flow was started in arrives with the request's batch, maybe after the steps
    const triggerId = steps.find((span) => span.name.endsWith('effect-1'))!.parentSpanId!;
    await traces.store.waitFor((store) => store.span(triggerId), { timeoutMs: 15_000 });

    const timeline = flowTimeline(traces.store, flowId!);
    expect(timeline.flowType).toBe('diagnostic');
    expect(timeline.entries.map((entry) => entry.kind)).toEqual(['trigger', 'step', 'step', 'step']);
    expect(timeline.entries.map((entry) => entry.label).slice(1)).toEqual([
      'step effect-1',
      'step effect-2',
      'step effect-3',
    ]);
    for (const entry of timeline.entries.slice(1)) {
      expect(entry.durationMs).toBeGreaterThanOrEqual(19);
      expect(entry.queueDelayMs).toBeGreaterThanOrEqual(0);
      expect(entry.queueDelayMs).toBeLessThan(2_000);
    }
    expect(timeline.entries[2]!.cause?.via).toBe('previous-step');
    expect(timeline.totalMs).toBeGreaterThanOrEqual(timeline.stepsMs);
    expect(formatTimeline(timeline)).toMatch(/step effect-3$/m);

    const results = checkSlos(traces.store, [
      defineSlo({ name: 'each step', flow: 'diagnostic', from: { step: 'effect-*' }, max: 10_000 }),
      defineSlo({
        name: 'first step to last',
        flow: 'diagnostic',
        from: { step: 'effect-1' },
        to: { step: 'effect-3' },
        percentile: { p: 99, max: 10_000 },
      }),
      defineSlo({ name: 'impossible', flow: 'diagnostic', from: { step: 'effect-2' }, max: 1 }),
    ]);
    expect(results.map((result) => [result.name, result.observed.n, result.status])).toEqual([
      ['each step', 3, 'pass'],
      ['first step to last', 1, 'pass'],
      ['impossible', 1, 'fail'],
    ]);
    expect(results[1]!.observed.max).toBeGreaterThanOrEqual(60);
    expect(sloExitCode(results)).toBe(1);
    expect(formatSloTable(results)).toMatch(/^impossible \(diagnostic\) .*max ≤ 1 ms +FAIL: max was/m);

    const jaeger = toJaegerJson(traces.store, { traceIds: [traceId] });
    expect(jaeger.data).toHaveLength(1);
    const [jaegerTrace] = jaeger.data;
    const step = jaegerTrace!.spans.find((span) => span.operationName === 'flow diagnostic effect-2')!;
    expect(step.references).toEqual([{ refType: 'CHILD_OF', traceID: traceId, spanID: triggerId }]);
    expect(jaegerTrace!.processes[step.processID]!.serviceName).toBe('control-plane');
    expect(step.tags).toContainEqual({ key: 'flow.id', type: 'string', value: flowId });
  });
});
