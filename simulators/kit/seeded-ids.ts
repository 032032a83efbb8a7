// Seeded ids and secrets: the n-th value for one purpose is SHA-256(seed, purpose, n), so one seed
// and one sequence of requests give the same message ids, refresh tokens and tickets in every run.
// That matters because requests carrying them (a refresh, a fetch by id) are fingerprinted by what
// they carry: random ids would give them other fingerprints, and other fault decisions, in each
// run, and "same seed, same journal" would not hold.
//
// These are test secrets of a simulator, not credentials: anyone who knows the seed can work them
// out, which is the point. Never use this for a real token, key or password.
//
// @example
//   const ids = new SeededIds(ctx.seed);
//   const sid = `SM${ids.hex('twilio-message', 16)}`;   // 32 hex digits
//   ids.reset();                                         // on /_sim/reset: the same ids again
import { createHash } from 'node:crypto';

/** `length` bytes, the same for the same seed, purpose and counter. */
export function seededBytes(seed: number, purpose: string, counter: number, length = 32): Buffer {
  const blocks: Buffer[] = [];
  for (let block = 0; blocks.length * 32 < length; block++) {
    blocks.push(
      createHash('sha256').update(`${seed}\u0000${purpose}\u0000${counter}\u0000${block}`).digest(),
    );
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** Counters per purpose over {@link seededBytes}; `reset()` starts them again from 0. */
export class SeededIds {
  readonly #counters = new Map<string, number>();
  #seed: number;

  constructor(seed: number) {
    this.#seed = seed;
  }

  /** The seed, settable once the kit has chosen one (a simulator made without a seed). */
  set seed(seed: number) {
    this.#seed = seed;
  }

  get seed(): number {
    return this.#seed;
  }

  /** The next `length` bytes for `purpose`. */
  bytes(purpose: string, length = 32): Buffer {
    const counter = this.#counters.get(purpose) ?? 0;
    this.#counters.set(purpose, counter + 1);
    return seededBytes(this.#seed, purpose, counter, length);
  }

  /** `length` bytes as lowercase hex (twice as many characters). */
  hex(purpose: string, length: number): string {
    return this.bytes(purpose, length).toString('hex');
  }

  /** `length` bytes as base64url. */
  base64url(purpose: string, length: number): string {
    return this.bytes(purpose, length).toString('base64url');
  }

  /** Every counter back to 0, as at a fresh start. */
  reset(): void {
    this.#counters.clear();
  }
}
