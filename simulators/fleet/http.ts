// A small JSON client over node:http. The fleet passes one keep-alive http.Agent to all its agents,
// so thousands of simulated agents share a bounded socket pool instead of one pool each.
import http from 'node:http';

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON; the caller states the shape it expects (`response.body as {…}`). */
  body: unknown;
}

/** A non-2xx answer (other than 304); `retryAfterMs` from the Retry-After header (seconds). */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, body: unknown, retryAfter: string | undefined) {
    const errorCode = (body as { error?: { code?: unknown } } | null | undefined)?.error?.code;
    const code = typeof errorCode === 'string' ? errorCode : undefined;
    super(`HTTP ${status}${code ? ` ${code}` : ''}`);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    const seconds = Number(retryAfter);
    this.retryAfterMs = retryAfter !== undefined && Number.isFinite(seconds) ? seconds * 1000 : undefined;
  }
}

export interface RequestOptions {
  method: 'GET' | 'POST';
  url: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  agent?: http.Agent;
  signal: AbortSignal;
  /** Every call has a bound, long-polls included (their wait plus a margin). */
  timeoutMs: number;
}

export function requestJson(options: RequestOptions): Promise<JsonResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  return new Promise((resolve, reject) => {
    const request = http.request(
      options.url,
      {
        method: options.method,
        agent: options.agent,
        signal,
        headers: {
          accept: 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = text;
          }
          const status = response.statusCode ?? 0;
          if ((status >= 200 && status < 300) || status === 304) {
            resolve({ status, headers: response.headers, body });
          } else {
            const retryAfter = response.headers['retry-after'];
            reject(new HttpError(status, body, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
