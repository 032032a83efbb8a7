// Reconnect delays, after the AWS Architecture Blog's "Exponential Backoff And Jitter" (Marc Brooker,
// 2015). A fleet that reconnects in lock-step hammers a restarted control plane; jitter spreads it.
// The random source is injected (seeded in the fleet), so a storm run is reproducible.

export type BackoffStrategy = 'none' | 'exponential' | 'full-jitter' | 'equal-jitter' | 'decorrelated-jitter';

export const backoffStrategies: readonly BackoffStrategy[] = [
  'none',
  'exponential',
  'full-jitter',
  'equal-jitter',
  'decorrelated-jitter',
];

export interface BackoffOptions {
  strategy: BackoffStrategy;
  /** The first delay's scale, in ms. Default 100. */
  baseMs?: number;
  /** No delay exceeds this (except a longer Retry-After). Default 30,000. */
  capMs?: number;
  /** Uniform in [0, 1); seed it for reproducible runs. Default Math.random. */
  random?: () => number;
}

/** Delays of successive failed attempts; `reset()` after a success. */
export class Backoff {
  readonly strategy: BackoffStrategy;
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  private attempt = 0;
  // decorrelated jitter grows from the previous delay, not from the attempt number
  private previousMs: number;

  constructor(options: BackoffOptions) {
    this.strategy = options.strategy;
    this.baseMs = options.baseMs ?? 100;
    this.capMs = options.capMs ?? 30_000;
    if (!(this.baseMs >= 0 && this.capMs >= this.baseMs))
      throw new RangeError('backoff needs 0 ≤ baseMs ≤ capMs');
    this.random = options.random ?? Math.random;
    this.previousMs = this.baseMs;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /**
   * The delay before the next attempt. A server's `Retry-After` is a floor: retrying earlier would
   * only be refused again, so the delay is at least `retryAfterMs`.
   */
  next(retryAfterMs?: number): number {
    const delay = this.draw();
    this.attempt += 1;
    return Math.max(delay, retryAfterMs ?? 0);
  }

  reset(): void {
    this.attempt = 0;
    this.previousMs = this.baseMs;
  }

  private draw(): number {
    const between = (low: number, high: number) => low + (high - low) * this.random();
    // 2^attempt overflows to Infinity past ~1024 attempts; min() keeps it at the cap
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    switch (this.strategy) {
      case 'none':
        return 0;
      case 'exponential':
        return ceiling;
      case 'full-jitter':
        return between(0, ceiling);
      case 'equal-jitter':
        return ceiling / 2 + between(0, ceiling / 2);
      case 'decorrelated-jitter':
        this.previousMs = Math.min(this.capMs, between(this.baseMs, this.previousMs * 3));
        return this.previousMs;
    }
  }
}
