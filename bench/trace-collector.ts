// Trace collector benchmark. (1) Ingest: OTLP/JSON batches of 512 spans (and the same as
// protobuf) POSTed to /v1/traces by keep-alive clients in a worker thread, so the load generator
// does not share the collector's event loop; spans per second, and spans per second of the collector's
// busy event loop (its one core; event-loop utilization). The OpenTelemetry Collector's own
// figure is about 12,000 spans/s per core. (2) SLO evaluation: three SLOs (a per-step percentile,
// request-to-webhook across links per flow instance, and one with no data) over 100,000 spans;
// target under 1 s. Prints JSON.
// Usage: node bench/trace-collector.ts [--seconds 5] [--connections 4] [--batch 512]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  checkSlos,
  encodeTraceRequestProto,
  startTraceCollector,
  type TraceSpan,
  TraceStore,
  toOtlpJson,
} from '../harness/traces/index.ts';
import { makeSpan, newTraceId, sampleSlos, stepSpan } from '../harness/traces/test-spans.ts';
import { percentile, round } from './support.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '4' },
    batch: { type: 'string', default: '512' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const batchSize = Number(values.batch);

/** Spans shaped like the control plane's: an HTTP server span, its flow's step spans, a pg query under each. */
function batch(size: number): TraceSpan[] {
  const resource = {
    'service.name': 'control-plane',
    'service.version': '0.1.0',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': '2.12.1',
    'process.pid': 4242,
  };
  const spans: TraceSpan[] = [];
  while (spans.length < size) {
    const traceId = newTraceId();
    const at = spans.length;
    const request = makeSpan({
      traceId,
      resource,
      name: 'POST /v1/orgs/:id/api-keys',
      kind: 'server',
      atMs: at,
      durationMs: 12.5,
      attributes: {
        'http.request.method': 'POST',
        'url.path': '/v1/orgs/0b6f/api-keys',
        'http.route': '/v1/orgs/:id/api-keys',
        'http.response.status_code': 201,
        'server.address': '127.0.0.1',
        'server.port': 8080,
        'user_agent.original': 'node',
        'network.protocol.version': '1.1',
      },
    });
    spans.push(request);
    for (const step of ['check-quota', 'activate', 'audit']) {
      const flow = { id: `flow-${at}`, type: 'create-api-key', traceId, parentSpanId: request.spanId };
      const stepSpanMade = { ...stepSpan(flow, step, at + 1, 2), resource };
      const query = makeSpan({
        traceId,
        resource,
        parentSpanId: stepSpanMade.spanId,
        name: 'pg.query:UPDATE planewright',
        kind: 'client',
        atMs: at + 1.5,
        durationMs: 0.4,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': 'planewright',
          'db.query.text': 'UPDATE api_keys SET state = $1 WHERE id = $2',
          'server.address': '127.0.0.1',
          'server.port': 5432,
        },
      });
      spans.push(stepSpanMade, query);
    }
  }
  return spans.slice(0, size);
}

// The load generator: keep-alive HTTP clients in a worker thread, each POSTing the same body in a
// loop (autocannon cannot pass a binary body to its worker threads)
const loadSource = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const { url, body, contentType, connections, seconds } = workerData;
const payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const deadline = performance.now() + seconds * 1000;
const latencies = [];
let errors = 0;
const post = () => new Promise((resolve) => {
  const started = performance.now();
  const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': payload.length } }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode !== 200) errors++; latencies.push(performance.now() - started); resolve(); });
  });
  req.on('error', () => { errors++; resolve(); });
  req.end(payload);
});
const client = async () => { while (performance.now() < deadline) await post(); };
Promise.all(Array.from({ length: connections }, client)).then(() => {
  agent.destroy();
  parentPort.postMessage({ latencies, errors });
});
`;

function load(
  url: string,
  body: Uint8Array,
  contentType: string,
  runSeconds: number,
): Promise<{ latencies: number[]; errors: number }> {
  const worker = new Worker(loadSource, {
    eval: true,
    workerData: { url, body, contentType, connections, seconds: runSeconds },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function ingest(format: 'json' | 'protobuf') {
  await using collector = await startTraceCollector({ maxSpans: 200_000 });
  const request = toOtlpJson(batch(batchSize));
  const body = format === 'json' ? Buffer.from(JSON.stringify(request)) : encodeTraceRequestProto(request);
  const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
  await load(collector.url, body, contentType, 1); // warm-up: the JIT, the store filling up
  const before = performance.eventLoopUtilization();
  const accepted = collector.stats().spansAccepted;
  const started = performance.now();
  const { latencies, errors } = await load(collector.url, body, contentType, seconds);
  const elapsedS = (performance.now() - started) / 1000;
  const utilization = performance.eventLoopUtilization(before).utilization;
  const spansPerSecond = (collector.stats().spansAccepted - accepted) / elapsedS;
  return {
    format,
    batchSpans: batchSize,
    bodyBytes: body.length,
    requests: latencies.length,
    errors,
    spansPerSecond: Math.round(spansPerSecond),
    eventLoopUtilization: Math.round(utilization * 1000) / 1000,
    spansPerBusyCoreSecond: Math.round(spansPerSecond / utilization),
    latencyMedianMs: round(percentile(latencies, 50)),
    latencyP99Ms: round(percentile(latencies, 99)),
    storeHeld: collector.store.size,
    storeEvicted: collector.store.stats().evicted,
    rejectedSpans: collector.stats().spansRejected,
  };
}

function sloEvaluation() {
  const spans: TraceSpan[] = [];
  for (let i = 0; spans.length < 100_000; i++) {
    const traceId = newTraceId();
    const at = i * 50;
    const request = makeSpan({
      traceId,
      name: 'POST /v1/orgs/:id/api-keys',
      kind: 'server',
      atMs: at,
      durationMs: 5,
    });
    const flow = { id: `flow-${i}`, type: 'create-api-key', traceId, parentSpanId: request.spanId };
    const audit = stepSpan(flow, 'audit', at + 25, 3);
    spans.push(
      request,
      stepSpan(flow, 'check-quota', at + 6, 2),
      stepSpan(flow, 'activate', at + 9, 10 + (i % 17)),
      audit,
      makeSpan({
        name: 'webhook.deliver',
        service: 'notify',
        atMs: at + 40,
        durationMs: 4,
        links: [{ traceId, spanId: audit.spanId, attributes: {} }],
      }),
    );
  }
  const store = new TraceStore({ maxSpans: spans.length });
  store.add(spans);
  const slos = sampleSlos;
  const timesMs: number[] = [];
  let results: ReturnType<typeof checkSlos> = [];
  for (let run = 0; run < 7; run++) {
    const started = performance.now();
    results = checkSlos(store, slos);
    timesMs.push(performance.now() - started);
  }
  return {
    spans: store.size,
    slos: slos.length,
    samples: results.map((result) => result.observed.n),
    firstRunMs: round(timesMs[0]!),
    medianMs: round(percentile(timesMs, 50)),
    maxMs: round(Math.max(...timesMs)),
    targetMs: 1_000,
  };
}

const json = await ingest('json');
const protobuf = await ingest('protobuf');
console.log(
  JSON.stringify(
    {
      benchmark: 'trace-collector',
      node: process.version,
      seconds,
      connections,
      anchor: { otelCollectorSpansPerSecondPerCore: 12_000 },
      ingest: [json, protobuf],
      sloEvaluation: sloEvaluation(),
    },
    null,
    2,
  ),
);
