import { createHash } from 'node:crypto';
import { idempotencyKeyInUse, idempotencyMismatch, invalidRequest, StripeError } from './errors.ts';
import type { Params } from './params.ts';

export interface IdempotentRequest {
  /** Whose key it is (the API key or account): keys of two accounts never meet. */
  scope?: string;
  key: string;
  method: string;
  path: string;
  params: Params;
}

export interface SavedResponse {
  status: number;
  body: unknown;
}

export type BeginResult = { kind: 'execute'; handle: string } | { kind: 'replay'; response: SavedResponse };

interface Entry {
  endpoint: string;
  fingerprint: string;
  createdAtMs: number;
  response: SavedResponse | null;
}

/** Stripe's limits: keys of up to 255 characters, kept at least 24 hours. */
const maxKeyLength = 255;
const keepMs = 24 * 3_600_000;

/** A stable fingerprint of the parameters: key order does not matter, values do. */
export function fingerprint(params: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(record)
          .sort()
          .map((key) => [key, canonical(record[key])]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(params)))
    .digest('hex');
}

/**
 * Stripe's idempotency keys. The HTTP layer calls `begin` before running a request that carries
 * `Idempotency-Key` and `finish` (result saved) or `release` (nothing saved: Stripe keeps no result
 * for a request whose parameters were rejected before it ran). Meanwhile the key is in flight and a
 * second request with it gets 409 `idempotency_key_in_use`. A later request with the same key gets
 * the saved status and body when its endpoint and parameters match, and `idempotency_error`
 * otherwise. Keys expire after 24 hours; at most `maxKeys` are kept (oldest dropped first).
 */
export function createIdempotencyStore(options: { now: () => number; maxKeys?: number }) {
  const maxKeys = options.maxKeys ?? 100_000;
  const entries = new Map<string, Entry>();
  const id = (request: IdempotentRequest) => `${request.scope ?? ''}\u0000${request.key}`;

  const prune = (nowMs: number) => {
    for (const [key, entry] of entries) {
      if (entries.size >= maxKeys || nowMs - entry.createdAtMs >= keepMs) entries.delete(key);
      else break; // insertion order is age order: the rest are younger
    }
  };

  const begin = (request: IdempotentRequest): BeginResult => {
    if (request.key.length > maxKeyLength) {
      throw invalidRequest(
        `Idempotency keys can be up to ${maxKeyLength} characters long. Try using a shorter key.`,
        'Idempotency-Key',
      );
    }
    const nowMs = options.now();
    prune(nowMs);
    const endpoint = `${request.method.toUpperCase()} ${request.path}`;
    const print = fingerprint(request.params);
    const existing = entries.get(id(request));
    if (!existing) {
      entries.set(id(request), { endpoint, fingerprint: print, createdAtMs: nowMs, response: null });
      return { kind: 'execute', handle: id(request) };
    }
    if (existing.response === null) throw idempotencyKeyInUse(request.key);
    if (existing.endpoint !== endpoint) {
      const [, firstPath] = existing.endpoint.split(' ');
      throw idempotencyMismatch(
        request.key,
        `can only be used for the same endpoint they were first used for ('${request.path}' vs '${firstPath}')`,
      );
    }
    if (existing.fingerprint !== print) throw idempotencyMismatch(request.key);
    return { kind: 'replay', response: structuredClone(existing.response) };
  };

  const finish = (handle: string, response: SavedResponse) => {
    const entry = entries.get(handle);
    if (entry) entry.response = structuredClone(response);
  };

  const release = (handle: string) => {
    entries.delete(handle);
  };

  return {
    begin,
    finish,
    release,
    /**
     * Runs `run` under the key: the saved answer for a replay, a StripeError's response (saved when
     * Stripe would save it), or `run`'s own answer (saved). Errors that are not StripeErrors release
     * the key and propagate: they are our bugs, not results.
     */
    async execute(
      request: IdempotentRequest,
      run: () => SavedResponse | Promise<SavedResponse>,
    ): Promise<SavedResponse & { replayed: boolean }> {
      let started: BeginResult;
      try {
        started = begin(request);
      } catch (error) {
        if (error instanceof StripeError) return { ...error.toResponse(), replayed: false };
        throw error;
      }
      if (started.kind === 'replay') return { ...started.response, replayed: true };
      try {
        const response = await run();
        finish(started.handle, response);
        return { ...response, replayed: false };
      } catch (error) {
        if (!(error instanceof StripeError)) {
          release(started.handle);
          throw error;
        }
        const response = error.toResponse();
        if (error.saveIdempotent) finish(started.handle, response);
        else release(started.handle);
        return { ...response, replayed: false };
      }
    },
    get size() {
      return entries.size;
    },
    clear: () => entries.clear(),
  };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
