// How a request is recognised again in another run: its method, path, and either its
// idempotency key or a hash of its query and body, plus how many times that same fingerprint was
// seen before. Replay matches recorded decisions on exactly this, so it never depends on timing.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface Fingerprint {
  method: string;
  path: string;
  /** `idem:<Idempotency-Key>`, else `sha256:<first 16 hex digits of query and body>`, else empty. */
  key: string;
  /** 1 for the first request with this method, path and key, 2 for the second, … */
  occurrence: number;
}

export interface FingerprintSource {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw query string, without `?`. */
  query: string;
  rawBody: Buffer | undefined;
}

export function requestKey(
  request: FingerprintSource,
  idempotencyHeader: string,
  clientGeneratedKey?: RegExp,
): string {
  const idempotencyKey = request.headers[idempotencyHeader];
  // a key the client library made up for this one call names nothing another run will send
  const chosenByCaller = typeof idempotencyKey === 'string' && !clientGeneratedKey?.test(idempotencyKey);
  if (chosenByCaller && idempotencyKey !== '') return `idem:${idempotencyKey}`;
  const hasBody = request.rawBody !== undefined && request.rawBody.length > 0;
  if (!hasBody && request.query === '') return '';
  const hash = createHash('sha256').update(request.query).update('\n');
  if (hasBody) hash.update(request.rawBody!);
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

/** The identity of a fingerprint without its occurrence number. */
export function fingerprintKey(fingerprint: Pick<Fingerprint, 'method' | 'path' | 'key'>): string {
  return `${fingerprint.method} ${fingerprint.path} ${fingerprint.key}`;
}

/**
 * Numbers the requests of each fingerprint. Never cleared by `reset`: occurrence numbers must stay
 * unique within a run for replay to be unambiguous. One entry per distinct fingerprint (about
 * 100 bytes each).
 */
export class OccurrenceCounter {
  readonly #seen = new Map<string, number>();
  readonly #clientGeneratedKey: RegExp | undefined;

  /** `clientGeneratedKey`: idempotency keys an SDK generates per call (fingerprinted by body instead). */
  constructor(clientGeneratedKey?: RegExp) {
    this.#clientGeneratedKey = clientGeneratedKey;
  }

  next(request: FingerprintSource, idempotencyHeader: string): Fingerprint {
    const fingerprint = {
      method: request.method,
      path: request.path,
      key: requestKey(request, idempotencyHeader, this.#clientGeneratedKey),
    };
    const id = fingerprintKey(fingerprint);
    const occurrence = (this.#seen.get(id) ?? 0) + 1;
    this.#seen.set(id, occurrence);
    return { ...fingerprint, occurrence };
  }
}
