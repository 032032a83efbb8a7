// Sends one intercepted request to its simulator and turns the answer into the response the
// original client reads: same method, path, query, headers and body; the simulator's status,
// headers and body as they come (streamed, redirects returned rather than followed).
import { bypass, HttpResponse } from 'msw';
import type { Logger } from 'pino';
import type { InterceptRoute } from './config.ts';
import { countFailure, countInterception } from './stats.ts';

export interface ForwardOptions {
  maxBodyBytes: number;
  responseTimeoutMs: number;
  logger: Logger;
}

// connection-level headers (RFC 9110 §7.6.1) describe the client's hop, not the simulator's; fetch
// refuses most of them, and sets Host and Content-Length itself
const hopByHop = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
];
// what fetch decodes on the way in: the body the client gets is then plain
const decodedEncodings = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']);

/** The simulator's answer to `request`, or a network error (logged) when there is none. */
export async function forward(request: Request, route: InterceptRoute, options: ForwardOptions) {
  const source = new URL(request.url);
  const target = targetUrl(source, route.target!);
  const startedAt = performance.now();
  countInterception(route.simulator, source.hostname);
  // paths only: queries and bodies may carry secrets
  const entry = { method: request.method, host: source.hostname, path: source.pathname, to: target.origin };
  try {
    const body = await readBounded(request, options.maxBodyBytes);
    const headers = new Headers(request.headers);
    for (const name of hopByHop) headers.delete(name);
    const headersTimeout = new AbortController();
    const timer = setTimeout(
      () => headersTimeout.abort(new Error(`no response headers within ${options.responseTimeoutMs} ms`)),
      options.responseTimeoutMs,
    );
    let upstream: Response;
    try {
      upstream = await fetch(
        // bypass: the simulator's own request is never intercepted again, whatever its host
        bypass(target, {
          method: request.method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.any([request.signal, headersTimeout.signal]),
        }),
      );
    } finally {
      clearTimeout(timer);
    }
    options.logger.debug(
      { ...entry, status: upstream.status, durationMs: Math.round(performance.now() - startedAt) },
      'intercepted',
    );
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders(upstream),
    });
  } catch (error) {
    countFailure();
    options.logger.warn(
      { ...entry, error: (error as Error).message, cause: causeOf(error) },
      'intercepted request got no answer from the simulator; the client sees a network error',
    );
    return HttpResponse.error();
  }
}

/** The simulator's base URL with the original path appended and the original query. */
export function targetUrl(source: URL, base: URL): URL {
  const target = new URL(base);
  target.pathname = base.pathname.replace(/\/$/, '') + source.pathname;
  target.search = source.search;
  return target;
}

async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!request.body) return undefined;
  const declared = Number(request.headers.get('content-length'));
  if (declared > maxBytes)
    throw new Error(`request body of ${declared} bytes is over maxBodyBytes ${maxBytes}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`request body is over maxBodyBytes ${maxBytes}`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function responseHeaders(upstream: Response): Headers {
  const headers = new Headers(upstream.headers);
  const encodings = (headers.get('content-encoding') ?? '')
    .split(',')
    .map((each) => each.trim().toLowerCase());
  if (upstream.body && encodings.some((encoding) => decodedEncodings.has(encoding))) {
    headers.delete('content-encoding');
    headers.delete('content-length');
  }
  // the original client's connection is not the simulator's: let msw frame the body
  headers.delete('transfer-encoding');
  headers.delete('connection');
  headers.delete('keep-alive');
  return headers;
}

function causeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message;
}
