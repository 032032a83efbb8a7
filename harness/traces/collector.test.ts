// The receiver fed by the real OpenTelemetry SDK: its OTLP/JSON exporter (plain and gzip) and its
// protobuf serializer (the one @opentelemetry/exporter-trace-otlp-proto sends with), plus bad
// input, partial success, forwarding and recording.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { CompressionAlgorithm, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeTraceRequestProto,
  encodeTraceRequestProto,
  loadOtlpJsonl,
  type StartedTraceCollector,
  startTraceCollector,
  type TraceSpan,
} from './index.ts';
import { decodeRpcStatusProto, decodeTraceResponseProto } from './otlp-proto.ts';

/** The exporter @opentelemetry/exporter-trace-otlp-proto builds, from the same parts. */
class ProtobufTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(config: { url: string; compression?: CompressionAlgorithm }) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        ProtobufTraceSerializer,
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}

/** Makes a small trace with the SDK (parent, child, link, event, error) and returns what it recorded. */
async function recordSampleTrace(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-test', 'deployment.environment': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('collector-test', '1.2.3');
  const cause = tracer.startSpan('enqueue', { kind: SpanKind.PRODUCER });
  cause.end();
  const parent = tracer.startSpan('POST /v1/things', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': 201 },
  });
  const child = tracer.startSpan(
    'flow delete-user revoke-sessions',
    {
      attributes: {
        'flow.id': 'f-1',
        'flow.step': 'revoke-sessions',
        'flow.attempt': 2,
        ratio: 0.25,
        done: true,
        tags: ['a', 'b'],
      },
      links: [{ context: cause.spanContext(), attributes: { reason: 'outbox' } }],
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('retry', { 'retry.delay_ms': 20 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'vendor said no' });
  child.end();
  parent.end();
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

const hrNanos = ([seconds, nanos]: [number, number]) => BigInt(seconds) * 1_000_000_000n + BigInt(nanos);

function expectSameAsSdk(stored: TraceSpan[], recorded: ReadableSpan[]) {
  expect(stored).toHaveLength(recorded.length);
  for (const original of recorded) {
    const span = stored.find((each) => each.spanId === original.spanContext().spanId)!;
    expect(span).toBeDefined();
    expect(span.traceId).toBe(original.spanContext().traceId);
    expect(span.parentSpanId).toBe(original.parentSpanContext?.spanId);
    expect(span.name).toBe(original.name);
    expect(span.startTimeUnixNano).toBe(hrNanos(original.startTime));
    expect(span.endTimeUnixNano).toBe(hrNanos(original.endTime));
    expect(span.durationMs).toBeCloseTo(Number(hrNanos(original.duration)) / 1e6, 9);
    expect(span.attributes).toEqual(original.attributes);
    expect(span.service).toBe('sdk-test');
    expect(span.resource['deployment.environment']).toBe('test');
    expect(span.scope).toEqual({ name: 'collector-test', version: '1.2.3' });
  }
  const child = stored.find((span) => span.name.startsWith('flow '))!;
  expect(child).toMatchObject({
    kind: 'internal',
    status: { code: 'error', message: 'vendor said no' },
    attributes: { 'flow.id': 'f-1', 'flow.attempt': 2, ratio: 0.25, done: true, tags: ['a', 'b'] },
  });
  expect(child.events).toEqual([
    expect.objectContaining({ name: 'retry', attributes: { 'retry.delay_ms': 20 } }),
  ]);
  const cause = stored.find((span) => span.name === 'enqueue')!;
  expect(child.links).toEqual([
    { traceId: cause.traceId, spanId: cause.spanId, attributes: { reason: 'outbox' } },
  ]);
  expect(stored.find((span) => span.name === 'POST /v1/things')?.kind).toBe('server');
  expect(cause.kind).toBe('producer');
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]) {
  return new Promise<{ code: ExportResultCode; error?: Error }>((resolve) => exporter.export(spans, resolve));
}

const collectors: StartedTraceCollector[] = [];
async function collector(options: Parameters<typeof startTraceCollector>[0] = {}) {
  const started = await startTraceCollector(options);
  collectors.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(collectors.splice(0).map((each) => each.close()));
});

const post = (url: string, body: string | Uint8Array, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', body, headers });

describe('startTraceCollector', () => {
  it('receives the SDK’s OTLP/JSON export, plain and gzip, and answers so the exporter reports success', async () => {
    const recorded = await recordSampleTrace();
    for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
      const traces = await collector();
      const exporter = new OTLPTraceExporter({ url: traces.url, compression });
      expect(await exportWith(exporter, recorded)).toEqual({ code: ExportResultCode.SUCCESS });
      await exporter.shutdown();
      expectSameAsSdk(traces.store.all(), recorded);
      expect(traces.stats()).toMatchObject({ requests: 1, spansAccepted: 3, spansRejected: 0 });
    }
  });

  it('receives the SDK’s protobuf export, plain and gzip, and decodes it to the same spans', async () => {
    const recorded = await recordSampleTrace();
    for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
      const traces = await collector();
      const exporter = new ProtobufTraceExporter({ url: traces.url, compression });
      expect(await exportWith(exporter, recorded)).toEqual({ code: ExportResultCode.SUCCESS });
      await exporter.shutdown();
      expectSameAsSdk(traces.store.all(), recorded);
    }
    // the same bytes, decoded by hand: ids stay bytes, fixed64 times become decimal strings
    const bytes = ProtobufTraceSerializer.serializeRequest(recorded)!;
    const decoded = decodeTraceRequestProto(bytes) as any;
    const span = decoded.resourceSpans[0].scopeSpans[0].spans[0];
    expect(Buffer.from(span.traceId).toString('hex')).toBe(recorded[0]!.spanContext().traceId);
    expect(span.startTimeUnixNano).toBe(hrNanos(recorded[0]!.startTime).toString());
  });

  it('decodes what the SDK does not send: arrays, key-value lists, bytes, int64 past 2^53, enum names', async () => {
    const traces = await collector();
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand-made' } }] },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: 'b7ad6b7169203331',
                  name: 'hand',
                  kind: 3,
                  startTimeUnixNano: '1700000000000000001',
                  endTimeUnixNano: '1700000000001500001',
                  attributes: [
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'n', value: { intValue: '-42' } },
                    { key: 'blob', value: { bytesValue: Buffer.from('hi') } },
                    {
                      key: 'list',
                      value: {
                        arrayValue: { values: [{ intValue: 1 }, { doubleValue: 1.5 }, { boolValue: false }] },
                      },
                    },
                    {
                      key: 'http',
                      value: { kvlistValue: { values: [{ key: 'route', value: { stringValue: '/x' } }] } },
                    },
                  ],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await post(traces.url, encodeTraceRequestProto(request), {
      'content-type': 'application/x-protobuf',
    });
    expect(response.status).toBe(200);
    expect(decodeTraceResponseProto(new Uint8Array(await response.arrayBuffer()))).toEqual({});
    const [span] = traces.store.all();
    expect(span).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      kind: 'client',
      service: 'hand-made',
      status: { code: 'ok' },
      durationMs: 1.5,
      attributes: {
        big: '9007199254740993',
        n: -42,
        blob: Buffer.from('hi').toString('base64'),
        list: [1, 1.5, false],
        'http.route': '/x',
      },
    });
    expect(span!.startMs).toBeCloseTo(1_700_000_000_000, 3);

    // OTLP/JSON with int64 as numbers and enums by name
    const json = structuredClone(request) as any;
    const jsonSpan = json.resourceSpans[0].scopeSpans[0].spans[0];
    Object.assign(jsonSpan, {
      spanId: 'c7ad6b7169203331',
      startTimeUnixNano: 1_700_000_000_000_000_000,
      endTimeUnixNano: 1_700_000_000_002_000_000,
      kind: 'SPAN_KIND_CONSUMER',
      status: { code: 'STATUS_CODE_ERROR' },
      attributes: [{ key: 'n', value: { intValue: 7 } }],
    });
    expect(
      (await post(traces.url, JSON.stringify(json), { 'content-type': 'application/json' })).status,
    ).toBe(200);
    expect(traces.store.span('c7ad6b7169203331')).toMatchObject({
      kind: 'consumer',
      status: { code: 'error' },
      attributes: { n: 7 },
    });
  });

  it('keeps the good spans of a batch and reports the refused ones as a partial success', async () => {
    const traces = await collector();
    const spans = [
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'good' },
      { traceId: '00000000000000000000000000000000', spanId: 'b7ad6b7169203332', name: 'zero trace' },
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'xyz', name: 'bad span id' },
    ].map((span) => ({ ...span, startTimeUnixNano: '1', endTimeUnixNano: '2' }));
    const request = { resourceSpans: [{ scopeSpans: [{ spans }] }] };

    const json = await post(traces.url, JSON.stringify(request), { 'content-type': 'application/json' });
    expect(json.status).toBe(200);
    const body = (await json.json()) as any;
    expect(body.partialSuccess.rejectedSpans).toBe('2');
    expect(body.partialSuccess.errorMessage).toMatch(/spans\[1\]: traceId is all zeros/);
    expect(body.partialSuccess.errorMessage).toMatch(/spans\[2\]: spanId must be 16 hex digits/);

    const proto = await post(
      traces.url,
      encodeTraceRequestProto({ resourceSpans: [{ scopeSpans: [{ spans: spans.slice(0, 2) }] }] }),
      {
        'content-type': 'application/x-protobuf',
      },
    );
    expect(decodeTraceResponseProto(new Uint8Array(await proto.arrayBuffer())).partialSuccess).toMatchObject({
      rejectedSpans: '1',
    });
    expect(traces.store.all().map((span) => span.name)).toEqual(['good', 'good']);
    expect(traces.stats()).toMatchObject({ spansAccepted: 2, spansRejected: 3 });
  });

  it('refuses bad requests with 4xx and an OTLP error body in the request’s encoding', async () => {
    const traces = await collector({ maxBodyBytes: 4096 });
    const json = { 'content-type': 'application/json' };
    const expectStatus = async (response: Response, status: number, message: RegExp) => {
      expect(response.status).toBe(status);
      const body = (await response.json()) as any;
      expect(body.message).toMatch(message);
      expect(typeof body.code).toBe('number');
    };
    await expectStatus(await post(traces.url, '{not json', json), 400, /not JSON/);
    await expectStatus(await post(traces.url, '[]', json), 400, /not an ExportTraceServiceRequest/);
    await expectStatus(
      await post(traces.url, '{"resourceSpans":{}}', json),
      400,
      /resourceSpans is not an array/,
    );
    await expectStatus(
      await post(traces.url, 'x', { 'content-type': 'text/plain' }),
      415,
      /content-type text\/plain/,
    );
    await expectStatus(
      await post(traces.url, '{}', { ...json, 'content-encoding': 'br' }),
      415,
      /content-encoding br/,
    );
    await expectStatus(
      await post(traces.url, 'plain', { ...json, 'content-encoding': 'gzip' }),
      400,
      /not valid gzip/,
    );
    await expectStatus(await fetch(traces.url), 405, /GET is not allowed/);
    await expectStatus(await post(`${traces.endpoint}/v1/metrics`, '{}', json), 404, /POST \/v1\/traces/);
    await expectStatus(
      await post(traces.url, `{"pad":"${'x'.repeat(5000)}"}`, json),
      413,
      /larger than 4096 bytes/,
    );
    // small on the wire, too large once decompressed
    const bomb = gzipSync(`{"pad":"${' '.repeat(100_000)}"}`);
    expect(bomb.length).toBeLessThan(4096);
    await expectStatus(
      await post(traces.url, bomb, { ...json, 'content-encoding': 'gzip' }),
      413,
      /larger than 4096 bytes once decompressed/,
    );

    const garbage = await post(traces.url, Buffer.from([0x0a, 0xff, 0xff, 0xff]), {
      'content-type': 'application/x-protobuf',
    });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toBe('application/x-protobuf');
    expect(decodeRpcStatusProto(new Uint8Array(await garbage.arrayBuffer()))).toMatchObject({
      code: 3,
      message: expect.stringMatching(/not a protobuf ExportTraceServiceRequest/),
    });
    expect(traces.store.size).toBe(0);
    expect(traces.stats().badRequests).toBe(11);
    // the collector still serves after all that
    expect((await post(traces.url, '{}', json)).status).toBe(200);
  });

  it('forwards accepted requests to another OTLP receiver, and records them as OTLP JSON lines', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'pw-traces-'));
    try {
      const downstream = await collector();
      const recordTo = join(folder, 'run', 'traces.jsonl');
      const upstream = await collector({ forwardTo: downstream.endpoint, recordTo });
      const recorded = await recordSampleTrace();
      const exporter = new ProtobufTraceExporter({ url: upstream.url });
      expect((await exportWith(exporter, recorded)).code).toBe(ExportResultCode.SUCCESS);
      await exporter.shutdown();
      const forwarded = await downstream.store.waitFor({
        traceId: recorded[1]!.spanContext().traceId,
        count: 2,
      });
      expect(forwarded.map((span) => span.name).sort()).toEqual([
        'POST /v1/things',
        'flow delete-user revoke-sessions',
      ]);
      expect(downstream.store.size).toBe(3);
      await upstream.close();
      expect(upstream.stats().forwarding).toMatchObject({ sent: 1, dropped: 0, failed: 0, queued: 0 });
      expect(readFileSync(recordTo, 'utf8').trim().split('\n')).toHaveLength(1);
      expectSameAsSdk((await loadOtlpJsonl(recordTo)).all(), recorded);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('bounds the forwarding queue when the receiver is down, dropping the oldest', async () => {
    // a port that accepts nothing: listen, note the port, close
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const deadPort = (blocker.address() as { port: number }).port;
    await new Promise((resolve) => blocker.close(resolve));
    const traces = await collector({
      forwardTo: { url: `http://127.0.0.1:${deadPort}`, maxQueued: 2, maxAttempts: 2 },
    });
    const span = (i: number) => ({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0af7651916cd43dd8448eb211c80319c',
                  spanId: `b7ad6b716920333${i}`,
                  name: `s${i}`,
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                },
              ],
            },
          ],
        },
      ],
    });
    for (let i = 0; i < 6; i++) {
      expect(
        (await post(traces.url, JSON.stringify(span(i)), { 'content-type': 'application/json' })).status,
      ).toBe(200);
    }
    // two waiting, one being sent
    expect(traces.stats().forwarding!.queued).toBeLessThanOrEqual(3);
    await traces.close();
    const forwarding = traces.stats().forwarding!;
    expect(forwarding.sent).toBe(0);
    expect(forwarding.dropped + forwarding.failed).toBe(6);
    expect(forwarding.dropped).toBeGreaterThanOrEqual(3);
    expect(forwarding.lastError).toMatch(new RegExp(`127.0.0.1:${deadPort}`));
  });

  it('names the port and the fix when the port is taken', async () => {
    const first = await collector();
    const port = Number(new URL(first.endpoint).port);
    await expect(startTraceCollector({ port })).rejects.toThrow(
      /PW_TRACES_PORT_IN_USE: port \d+ .*pass port: 0/,
    );
  });
});
