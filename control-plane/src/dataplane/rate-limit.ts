// Storm protection for the agent gateway (issue 5, first part of item 7): a token bucket per agent
// and a global bound on snapshots built at once. Both are per process and in memory; callers answer
// 429 with `Retry-After` when they refuse.

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSec: number;
  /** Bucket size: the burst a quiet agent may send at once. */
  burst: number;
  /** Buckets kept at most; the least recently used is dropped (it starts full when it returns). */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** `retryAfterSeconds` is whole seconds, at least 1, as `Retry-After` wants. */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * One token bucket per key (an agent id).
 *
 * @example const limits = new TokenBuckets({ ratePerSec: 5, burst: 20 }); if (!limits.take(agentId).ok) …
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly options: Required<TokenBucketOptions>;

  constructor(options: TokenBucketOptions) {
    this.options = { maxKeys: 100_000, now: () => performance.now(), ...options };
  }

  take(key: string): TakeResult {
    const { ratePerSec, burst, maxKeys, now } = this.options;
    const at = now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at };
    bucket.tokens = Math.min(burst, bucket.tokens + ((at - bucket.at) / 1000) * ratePerSec);
    bucket.at = at;
    // re-inserted, so the Map's order is least recently used first
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSec)) };
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * At most `limit` holders at once; `tryAcquire` never queues (a refused caller answers 429), so a
 * storm of reconnecting agents costs the database at most `limit` snapshot queries at a time.
 */
export class ConcurrencyLimit {
  private active = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get inUse(): number {
    return this.active;
  }

  /** A release function, or undefined when all slots are taken. Releasing twice is harmless. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit) return undefined;
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
    };
  }
}
