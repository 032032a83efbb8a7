import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOtlpJsonlWriter, loadOtlpJsonl, readOtlpJsonl, TraceStore, toJaegerJson } from './index.ts';
import { makeSpan, newTraceId, stepSpan } from './test-spans.ts';

function sampleTrace() {
  const traceId = newTraceId();
  const request = makeSpan({
    traceId,
    name: 'DELETE /v1/users/me',
    kind: 'server',
    atMs: 0.5,
    durationMs: 10.25,
    resource: { 'service.name': 'control-plane', 'service.version': '1.0.0' },
    attributes: { 'http.response.status_code': 202, 'http.route': '/v1/users/me' },
  });
  const step = {
    ...stepSpan(
      { id: 'f-1', type: 'delete-user', traceId, parentSpanId: request.spanId },
      'erase-user',
      12,
      3,
    ),
    resource: request.resource,
    status: { code: 'error' as const, message: 'database gone' },
    events: [
      {
        name: 'exception',
        timeUnixNano: request.startTimeUnixNano + 14_000_000n,
        timeMs: request.startMs + 14,
        attributes: { 'exception.message': 'database gone' },
      },
    ],
  };
  const webhook = makeSpan({
    name: 'webhook.deliver',
    service: 'notify',
    atMs: 30,
    durationMs: 2,
    attributes: { ratio: 0.5, retried: false, tags: ['a', 'b'] },
    links: [{ traceId, spanId: step.spanId, attributes: {} }],
  });
  return { traceId, request, step, webhook };
}

describe('toJaegerJson', () => {
  it('writes the structure the Jaeger UI loads: traces, spans in µs, references, tags, logs, processes', () => {
    const { traceId, request, step, webhook } = sampleTrace();
    const store = new TraceStore();
    store.add([request, step, webhook]);
    const document = JSON.parse(JSON.stringify(toJaegerJson(store)));

    expect(document.data).toHaveLength(2);
    const trace = document.data.find((each: { traceID: string }) => each.traceID === traceId);
    expect(Object.keys(trace).sort()).toEqual(['processes', 'spans', 'traceID', 'warnings']);
    expect(trace.processes).toEqual({
      p1: {
        serviceName: 'control-plane',
        tags: [{ key: 'service.version', type: 'string', value: '1.0.0' }],
      },
    });
    const [root, child] = trace.spans;
    expect(root).toMatchObject({
      traceID: traceId,
      spanID: request.spanId,
      operationName: 'DELETE /v1/users/me',
      references: [],
      startTime: Number(request.startTimeUnixNano / 1000n),
      duration: 10_250,
      processID: 'p1',
      logs: [],
    });
    expect(root.tags).toEqual([
      { key: 'http.response.status_code', type: 'int64', value: 202 },
      { key: 'http.route', type: 'string', value: '/v1/users/me' },
      { key: 'span.kind', type: 'string', value: 'server' },
      { key: 'otel.scope.name', type: 'string', value: 'test' },
    ]);
    expect(child.references).toEqual([{ refType: 'CHILD_OF', traceID: traceId, spanID: request.spanId }]);
    expect(child.startTime - root.startTime).toBe(11_500);
    expect(child.tags).toEqual(
      expect.arrayContaining([
        { key: 'flow.id', type: 'string', value: 'f-1' },
        { key: 'flow.attempt', type: 'int64', value: 1 },
        { key: 'otel.status_code', type: 'string', value: 'ERROR' },
        { key: 'otel.status_description', type: 'string', value: 'database gone' },
        { key: 'error', type: 'bool', value: true },
      ]),
    );
    expect(child.logs).toEqual([
      {
        timestamp: root.startTime + 14_000,
        fields: [
          { key: 'event', type: 'string', value: 'exception' },
          { key: 'exception.message', type: 'string', value: 'database gone' },
        ],
      },
    ]);

    const linked = document.data.find((each: { traceID: string }) => each.traceID === webhook.traceId);
    expect(linked.spans[0].references).toEqual([
      { refType: 'FOLLOWS_FROM', traceID: traceId, spanID: step.spanId },
    ]);
    expect(linked.spans[0].tags).toEqual(
      expect.arrayContaining([
        { key: 'ratio', type: 'float64', value: 0.5 },
        { key: 'retried', type: 'bool', value: false },
        { key: 'tags', type: 'string', value: '["a","b"]' },
      ]),
    );
    expect(linked.processes.p1.serviceName).toBe('notify');

    expect(toJaegerJson(store, { traceIds: [traceId] }).data.map((each) => each.traceID)).toEqual([traceId]);
    expect(toJaegerJson([request, webhook], { traceIds: [webhook.traceId] }).data).toHaveLength(1);
  });
});

describe('OTLP JSON lines', () => {
  it('writes one ExportTraceServiceRequest a line and reads the same spans back', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pw-jsonl-'));
    try {
      const { request, step, webhook } = sampleTrace();
      const path = join(folder, 'runs', 'r1', 'traces.jsonl');
      const writer = createOtlpJsonlWriter(path);
      writer.write([request, step]);
      writer.write([]);
      writer.write([webhook]);
      await writer.close();

      const batches: string[][] = [];
      for await (const spans of readOtlpJsonl(path)) batches.push(spans.map((span) => span.name));
      expect(batches).toEqual([['DELETE /v1/users/me', 'flow delete-user erase-user'], ['webhook.deliver']]);
      const loaded = await loadOtlpJsonl(path);
      const strip = ({ resource, scope, ...rest }: typeof request) => ({
        ...rest,
        resource: { ...resource },
        scope: { ...scope },
      });
      expect(loaded.all().map(strip)).toEqual([request, step, webhook].map(strip));

      writeFileSync(join(folder, 'bad.jsonl'), '{"resourceSpans":[]}\nnot json\n');
      await expect(loadOtlpJsonl(join(folder, 'bad.jsonl'))).rejects.toThrow(
        /PW_TRACES_JSONL_INVALID: .*bad\.jsonl:2 is not JSON/,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
