// Passing what the collector accepts on to another OTLP/HTTP receiver (Jaeger, Tempo, an
// OpenTelemetry Collector). The request body goes on as it came (decompressed), in order, one at a
// time; the queue is bounded so a slow or dead receiver costs memory up to a limit, then the
// oldest requests are dropped and counted. Retries follow the OTLP/HTTP spec: 429, 502, 503 and
// 504 (and a failed connection) are retried with backoff, honouring Retry-After.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ForwardOptions {
  /** A base URL (`/v1/traces` is appended, as for OTEL_EXPORTER_OTLP_ENDPOINT) or one ending in /v1/traces. */
  url: string;
  /** Sent with every request (an API key, a tenant header). */
  headers?: Record<string, string>;
  /** Requests waiting (besides the one being sent) before the oldest is dropped. Default: 1,000. */
  maxQueued?: number;
  /** Bytes waiting before the oldest request is dropped. Default: 64 MiB. */
  maxQueuedBytes?: number;
  /** Attempts per request when the answer says to retry. Default: 5. */
  maxAttempts?: number;
  /** Per attempt. Default: 10,000 ms. */
  timeoutMs?: number;
}

export interface ForwarderStats {
  url: string;
  queued: number;
  sent: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Given up on: a non-retryable answer, or retries exhausted. */
  failed: number;
  lastError?: string;
}

interface Pending {
  body: Uint8Array;
  contentType: string;
}

const retryable = new Set([429, 502, 503, 504]);

export function tracesUrlOf(url: string): string {
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith('/v1/traces')) {
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/v1/traces`;
  }
  return parsed.toString();
}

export class OtlpForwarder {
  readonly url: string;
  #options: Required<Omit<ForwardOptions, 'url'>>;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #inFlight: Pending | undefined;
  #stats = { sent: 0, dropped: 0, failed: 0, lastError: undefined as string | undefined };
  #running: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(options: ForwardOptions) {
    this.url = tracesUrlOf(options.url);
    this.#options = {
      headers: options.headers ?? {},
      maxQueued: options.maxQueued ?? 1_000,
      maxQueuedBytes: options.maxQueuedBytes ?? 64 * 1024 * 1024,
      maxAttempts: options.maxAttempts ?? 5,
      timeoutMs: options.timeoutMs ?? 10_000,
    };
  }

  stats(): ForwarderStats {
    const { lastError, ...counts } = this.#stats;
    const queued = this.#queue.length + (this.#inFlight ? 1 : 0);
    return { url: this.url, queued, ...counts, ...(lastError ? { lastError } : {}) };
  }

  enqueue(body: Uint8Array, contentType: string): void {
    if (this.#abort.signal.aborted) return;
    this.#queue.push({ body, contentType });
    this.#queuedBytes += body.length;
    while (
      this.#queue.length > this.#options.maxQueued ||
      (this.#queuedBytes > this.#options.maxQueuedBytes && this.#queue.length > 0)
    ) {
      this.#queuedBytes -= this.#queue.shift()!.body.length;
      this.#stats.dropped += 1;
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Waits until the queue is empty or `timeoutMs` passed, then stops; what is left is dropped. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([this.#running, deadline]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    this.#stats.dropped += this.#queue.length;
    this.#queue = [];
    this.#queuedBytes = 0;
    await this.#running?.catch(() => {});
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const next = this.#queue.shift()!;
      this.#queuedBytes -= next.body.length;
      this.#inFlight = next;
      await this.#send(next);
      this.#inFlight = undefined;
    }
  }

  async #send(request: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { ...this.#options.headers, 'content-type': request.contentType },
          body: request.body,
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.timeoutMs)]),
        });
        await response.arrayBuffer();
        if (response.ok) {
          this.#stats.sent += 1;
          return;
        }
        this.#stats.lastError = `${this.url} answered ${response.status}`;
        if (!retryable.has(response.status)) break;
        const header = Number(response.headers.get('retry-after'));
        if (Number.isFinite(header) && header > 0) retryAfterMs = Math.min(header * 1000, 30_000);
      } catch (error) {
        if (this.#abort.signal.aborted) return this.#dropInFlight();
        this.#stats.lastError = `${this.url}: ${(error as Error).message}`;
      }
      if (attempt >= this.#options.maxAttempts) break;
      const backoffMs = retryAfterMs ?? Math.min(100 * 2 ** (attempt - 1), 5_000);
      await sleep(backoffMs, undefined, { signal: this.#abort.signal }).catch(() => {});
      if (this.#abort.signal.aborted) return this.#dropInFlight();
    }
    this.#stats.failed += 1;
  }

  // close() gave up on the request being sent
  #dropInFlight(): void {
    this.#stats.dropped += 1;
  }
}
