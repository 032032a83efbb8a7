const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random source in [0, 1): the simulator's own, or the kit's seeded one when it is wired in. */
export type Random = () => number;

/**
 * A small seeded generator (sfc32): the same seed gives the same ids and the same jitter, so a run
 * that a journal replays creates the same objects with the same ids.
 */
export function seededRandom(seed: string | number): Random {
  // cyrb128 spreads the seed over four 32-bit words
  const text = String(seed);
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  let a = h1 >>> 0;
  let b = h2 >>> 0;
  let c = h3 >>> 0;
  let d = h4 >>> 0;
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** Stripe's id lengths after the prefix: short for customers and products, 24 for the rest. */
const shortIds = new Set(['cus', 'prod', 'si']);

export interface IdGenerator {
  /** A fresh id such as `cus_Q3xk9LmP2aZ8rT`. */
  next(prefix: string): string;
  /** Random base62 text, for secrets such as `whsec_…`. */
  text(length: number): string;
}

export function createIdGenerator(random: Random): IdGenerator {
  const text = (length: number) => {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  return {
    next: (prefix) => `${prefix}_${text(shortIds.has(prefix) ? 14 : 24)}`,
    text,
  };
}
