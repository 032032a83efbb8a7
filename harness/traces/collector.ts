// An OTLP/HTTP trace receiver for test runs: POST /v1/traces with OTLP/JSON or protobuf bodies,
// gzip or not, answered as the OTLP/HTTP spec says (200 with an ExportTraceServiceResponse in the
// request's encoding, partial_success when spans were refused; 400 with a google.rpc.Status for a
// bad body; 413, 415, 405, 404). What it accepts goes into a TraceStore, optionally into an OTLP
// JSON lines file of the run folder, and optionally on to another collector.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { PlanewrightError } from '../errors.ts';
import { type ForwarderStats, type ForwardOptions, OtlpForwarder } from './forwarder.ts';
import { createOtlpJsonlWriter, type OtlpJsonlWriter } from './jsonl.ts';
import { spansFromOtlp } from './otlp-decode.ts';
import { decodeTraceRequestProto, encodeRpcStatusProto, encodeTraceResponseProto } from './otlp-proto.ts';
import { TraceStore } from './store.ts';

const gunzip = promisify(gunzipCallback);

export interface TraceCollectorOptions {
  /** Default: 0, a free port. */
  port?: number;
  /** Default: 127.0.0.1. */
  host?: string;
  /** The store to fill. Default: a new one holding `maxSpans`. */
  store?: TraceStore;
  /** For the default store. Default: 200,000. */
  maxSpans?: number;
  /** Largest body, before and after decompression; larger ones get 413. Default: 16 MiB. */
  maxBodyBytes?: number;
  /** Also send every accepted request to this OTLP/HTTP receiver (Jaeger, Tempo, a collector). */
  forwardTo?: string | ForwardOptions;
  /** Also append every accepted request to this OTLP JSON lines file (e.g. runs/<id>/traces.jsonl). */
  recordTo?: string;
}

export interface TraceCollectorStats {
  requests: number;
  /** Requests refused whole (4xx). */
  badRequests: number;
  spansAccepted: number;
  /** Spans refused one by one (partial success). */
  spansRejected: number;
  forwarding?: ForwarderStats;
}

export interface StartedTraceCollector {
  /** Where exporters POST: http://host:port/v1/traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  readonly url: string;
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (exporters append /v1/traces). */
  readonly endpoint: string;
  /** Variables that make a process under test export here promptly. */
  readonly env: Readonly<Record<string, string>>;
  readonly store: TraceStore;
  stats(): TraceCollectorStats;
  /** Stops listening, forwards what is queued (up to 5 s) and closes the recording. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type Format = 'json' | 'proto';

// google.rpc.Code INVALID_ARGUMENT, RESOURCE_EXHAUSTED… as OTLP/HTTP error bodies carry them
const rpcCodeOf: Record<number, number> = { 400: 3, 404: 5, 405: 12, 413: 8, 415: 3 };

/**
 * Starts the receiver.
 * @example await using traces = await startTraceCollector(); spawn(cmd, { env: { ...process.env, ...traces.env } })
 */
export async function startTraceCollector(
  options: TraceCollectorOptions = {},
): Promise<StartedTraceCollector> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw optionsInvalid(`maxBodyBytes must be a positive integer, got ${options.maxBodyBytes}`);
  }
  const store = options.store ?? new TraceStore({ maxSpans: options.maxSpans });
  let forwarder: OtlpForwarder | undefined;
  if (options.forwardTo) {
    const forward = typeof options.forwardTo === 'string' ? { url: options.forwardTo } : options.forwardTo;
    try {
      forwarder = new OtlpForwarder(forward);
    } catch {
      throw optionsInvalid(`forwardTo is not a URL: ${forward.url}`);
    }
  }
  const recorder: OtlpJsonlWriter | undefined = options.recordTo
    ? createOtlpJsonlWriter(options.recordTo)
    : undefined;
  const stats = { requests: 0, badRequests: 0, spansAccepted: 0, spansRejected: 0 };

  const fail = (res: ServerResponse, format: Format, status: number, message: string) => {
    stats.badRequests += 1;
    const code = rpcCodeOf[status] ?? 2;
    if (format === 'proto') {
      res.writeHead(status, { 'content-type': 'application/x-protobuf' });
      res.end(encodeRpcStatusProto(code, message));
    } else {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code, message }));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests += 1;
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format: Format = mediaType === 'application/x-protobuf' ? 'proto' : 'json';
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/traces') {
      req.resume();
      return fail(res, format, 404, `no such path ${path}; OTLP traces go to POST /v1/traces`);
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      return fail(res, format, 405, `${req.method} is not allowed; use POST`);
    }
    if (mediaType !== 'application/json' && mediaType !== 'application/x-protobuf') {
      req.resume();
      return fail(
        res,
        format,
        415,
        `content-type ${mediaType || '(none)'} is not supported; send application/json or application/x-protobuf`,
      );
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      req.resume();
      return fail(res, format, 415, `content-encoding ${encoding} is not supported; send gzip or none`);
    }
    const tooLarge = `the body is larger than ${maxBodyBytes} bytes`;
    const declared = Number(req.headers['content-length']);
    if (declared > maxBodyBytes) {
      res.setHeader('connection', 'close');
      req.resume();
      return fail(res, format, 413, tooLarge);
    }
    let body = await readBody(req, maxBodyBytes);
    if (!body) {
      res.setHeader('connection', 'close');
      return fail(res, format, 413, tooLarge);
    }
    if (encoding === 'gzip') {
      try {
        body = await gunzip(body, { maxOutputLength: maxBodyBytes });
      } catch (error) {
        if (error instanceof RangeError) return fail(res, format, 413, `${tooLarge} once decompressed`);
        return fail(res, format, 400, `the body is not valid gzip: ${(error as Error).message}`);
      }
    }
    let request: unknown;
    try {
      request = format === 'json' ? JSON.parse(body.toString('utf8')) : decodeTraceRequestProto(body);
    } catch (error) {
      const what = format === 'json' ? 'JSON' : 'a protobuf ExportTraceServiceRequest';
      return fail(res, format, 400, `the body is not ${what}: ${(error as Error).message}`);
    }
    let decoded: ReturnType<typeof spansFromOtlp>;
    try {
      decoded = spansFromOtlp(request);
    } catch (error) {
      return fail(res, format, 400, (error as Error).message);
    }
    store.add(decoded.spans);
    stats.spansAccepted += decoded.spans.length;
    stats.spansRejected += decoded.rejected;
    recorder?.write(decoded.spans);
    if (decoded.spans.length > 0) forwarder?.enqueue(body, mediaType);

    const partialSuccess = decoded.rejected
      ? {
          rejectedSpans: decoded.rejected,
          errorMessage: `${decoded.rejected} span(s) refused: ${decoded.problems.join('; ')}`,
        }
      : undefined;
    if (format === 'proto') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeTraceResponseProto(partialSuccess));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          partialSuccess
            ? { partialSuccess: { ...partialSuccess, rejectedSpans: String(partialSuccess.rejectedSpans) } }
            : {},
        ),
      );
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) fail(res, 'json', 500, `the collector failed: ${error.message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw error;
      }),
    ]);
  } catch (error) {
    await recorder?.close().catch(() => {});
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PlanewrightError(
        'PW_TRACES_PORT_IN_USE',
        `port ${port} on ${host} is taken`,
        'pass port: 0 for a free one',
      );
    }
    throw error;
  }
  const address = server.address() as { port: number };
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await forwarder?.close();
      await recorder?.close();
    })();
    return closing;
  };
  return {
    url: `${base}/v1/traces`,
    endpoint: base,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: base,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // the batch processor's default delay of 5 s would make every wait for spans that long
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    store,
    stats: () => ({ ...stats, ...(forwarder ? { forwarding: forwarder.stats() } : {}) }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The body, or undefined once it grows past `limit` bytes (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        // keep reading, so the 413 reaches a client that is still sending
        chunks = [];
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (length <= limit) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length));
    });
    req.on('error', reject);
  });
}

function optionsInvalid(message: string): PlanewrightError {
  return new PlanewrightError(
    'PW_TRACES_OPTIONS_INVALID',
    message,
    'fix the option passed to startTraceCollector',
  );
}
