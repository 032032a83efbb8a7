import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkSlos,
  defineSlo,
  formatSloTable,
  loadSlos,
  parseSlos,
  sloExitCode,
  TraceStore,
} from './index.ts';
import type { TraceSpan } from './span.ts';
import { makeSpan, newTraceId, sampleSlos as slos, stepSpan } from './test-spans.ts';

/** `count` create-api-key flows: a request, three steps, and a webhook linked to the last step. */
function flows(count: number, slowEvery = 0): TraceSpan[] {
  const spans: TraceSpan[] = [];
  for (let i = 0; i < count; i++) {
    const traceId = newTraceId();
    const at = i * 100;
    const slow = slowEvery > 0 && i % slowEvery === 0;
    const request = makeSpan({
      traceId,
      name: 'POST /v1/orgs/:id/api-keys',
      kind: 'server',
      atMs: at,
      durationMs: 5,
    });
    const flow = { id: `flow-${i}`, type: 'create-api-key', traceId, parentSpanId: request.spanId };
    const steps = [
      stepSpan(flow, 'check-quota', at + 6, 2),
      stepSpan(flow, 'activate', at + 9, slow ? 300 : 10 + (i % 10)),
      stepSpan(flow, 'audit', at + (slow ? 310 : 25), 3),
    ];
    const webhook = makeSpan({
      name: 'webhook.deliver',
      service: 'notify',
      atMs: at + (slow ? 320 : 40),
      durationMs: 4,
      links: [{ traceId, spanId: steps[2]!.spanId, attributes: {} }],
    });
    spans.push(request, ...steps, webhook);
  }
  return spans;
}

describe('checkSlos', () => {
  it('passes when every sample is within the threshold, with p50/p99/max and n', () => {
    const results = checkSlos(flows(100), slos.slice(0, 2));
    expect(results[0]).toMatchObject({
      name: 'activate step',
      flow: 'create-api-key',
      observed: { n: 100, p50: 14, p99: 19, max: 19, atPercentile: 19 },
      threshold: { percentile: { p: 99, max: 50 } },
      status: 'pass',
      pass: true,
    });
    // request start to the linked webhook's end, per flow instance
    expect(results[1]).toMatchObject({ observed: { n: 100, p50: 44, max: 44 }, incomplete: 0, pass: true });
    expect(sloExitCode(results)).toBe(0);
  });

  it('fails on a percentile or a maximum over its threshold, and on no data; the table says which and why', () => {
    const store = new TraceStore();
    store.add(flows(100, 100)); // flow 0 is slow: 1 in 100, within p99 but not within max
    const results = checkSlos(store, slos);
    expect(results.map((result) => result.status)).toEqual(['pass', 'fail', 'no-data']);
    expect(results[1]!.observed.max).toBe(324);
    expect(sloExitCode(results)).toBe(1);

    const strict = checkSlos(store, [
      { ...slos[0]!, name: 'activate p99.5', percentile: { p: 99.5, max: 50 } },
    ]);
    expect(strict[0]).toMatchObject({ status: 'fail', observed: { atPercentile: 300 } });

    const table = formatSloTable(results);
    expect(table).toBe(
      [
        'SLO                                    n  p50 ms  p99 ms  max ms  threshold     result',
        'activate step (create-api-key)       100    15.0    19.0     300  p99 ≤ 50 ms   pass',
        'request to webhook (create-api-key)  100    44.0    44.0     324  max ≤ 100 ms  FAIL: max was 324 ms',
        'never seen                             0       -       -       -  max ≤ 10 ms   NO DATA',
        '',
        '1 of 3 SLOs met',
      ].join('\n'),
    );
  });

  it('counts flow instances where an end point is missing as incomplete', () => {
    let webhooks = 0;
    const spans = flows(3).filter((span) => !(span.name === 'webhook.deliver' && webhooks++ < 2));
    const [result] = checkSlos(spans, [slos[1]!]);
    expect(result).toMatchObject({ observed: { n: 1 }, incomplete: 2, status: 'pass' });
    expect(formatSloTable([result!])).toMatch(/pass \(2 incomplete\)$/m);
  });

  it('evaluates 100,000 spans in well under a second', () => {
    const spans = flows(20_000); // 5 spans a flow
    expect(spans).toHaveLength(100_000);
    const store = new TraceStore({ maxSpans: 100_000 });
    store.add(spans);
    const started = performance.now();
    const results = checkSlos(store, slos);
    const elapsedMs = performance.now() - started;
    expect(results.map((result) => result.observed.n)).toEqual([20_000, 20_000, 0]);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('refuses a definition without a threshold or with a bad percentile', () => {
    expect(() => defineSlo({ name: 'x', from: 'a' })).toThrow(
      /PW_SLO_INVALID: SLO "x": give max, percentile or both/,
    );
    expect(() => defineSlo({ name: 'y', from: 'a', percentile: { p: 0, max: 1 } })).toThrow(
      /percentile.p must be in/,
    );
  });
});

describe('SLO files', () => {
  const yaml = `
slos:
  - name: activate step
    flow: create-api-key
    from: { step: activate }
    percentile: { p: 99, max: 50 }
  - name: request to webhook
    flow: create-api-key
    from: "POST /v1/orgs/*"
    to: { name: webhook.deliver, service: notify }
    max: 100
`;

  it('reads YAML and JSON into the same SLOs as code', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pw-slo-'));
    try {
      writeFileSync(join(folder, 'slos.yaml'), yaml);
      writeFileSync(
        join(folder, 'slos.json'),
        JSON.stringify(parseSlos(yaml).map(({ matchFrom, matchTo, ...rest }) => rest)),
      );
      const spans = flows(100, 50);
      const inCode = checkSlos(spans, slos.slice(0, 2));
      expect(checkSlos(spans, await loadSlos(join(folder, 'slos.yaml')))).toEqual(inCode);
      expect(checkSlos(spans, await loadSlos(join(folder, 'slos.json')))).toEqual(inCode);
      await expect(loadSlos(join(folder, 'missing.yaml'))).rejects.toThrow(/PW_SLO_FILE_UNREADABLE/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('names every problem of a bad file with its path', () => {
    const bad = `
slos:
  - name: a
    from: { step: activate, colour: red }
    percentile: { p: 120, max: 5 }
  - name: a
    from: x
    max: -1
`;
    expect(() => parseSlos(bad, 'slos.yaml')).toThrow(
      /PW_SLO_INVALID: slos.yaml: .*slos\.0\.from.*slos\.0\.percentile\.p.*slos\.1\.max/,
    );
    expect(() => parseSlos('slos: [{ name: a, from: x, max: 1 }, { name: a, from: y, max: 1 }]')).toThrow(
      /two SLOs are named a/,
    );
    expect(() => parseSlos('slos: [')).toThrow(/is not YAML or JSON/);
  });
});
