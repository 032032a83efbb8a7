// The seeded random source of every fault decision. The algorithm is xoroshiro128+ from
// `pure-rand`; each request gets its own generator whose 128-bit state is the first 16 bytes of
// SHA-256(seed, fingerprint, occurrence). Seeding per request, rather than drawing from one
// stream, keeps a request's draws independent of how concurrent requests interleave: the same
// request in two runs with one seed draws the same numbers whatever else was in flight.
import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform in [min, max]. */
  uniform(min: number, max: number): number;
  /** Log-normal with the given median and 99th percentile. */
  lognormal(median: number, p99: number): number;
}

// the standard normal's 99th percentile: p99 = median · e^(σ·z99)
const z99 = 2.3263478740408408;

/** The generator for one request, identified by its fingerprint key and occurrence number. */
export function requestRandom(seed: number, fingerprintKey: string, occurrence: number): Random {
  return seededRandom(seed, `${fingerprintKey}\u0000${occurrence}`);
}

/** A generator whose draws depend only on the seed and `key` (what is being decided). */
export function seededRandom(seed: number, key: string): Random {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  const state = [0, 4, 8, 12].map((offset) => digest.readInt32BE(offset));
  // an all-zero state would emit zeros forever; a SHA-256 prefix of zeros will not happen, but cheap to rule out
  if (!state.some((word) => word !== 0)) state[0] = 1;
  const generator = xoroshiro128plusFromState(state);
  const float = () => uniformFloat64(generator);
  return {
    float,
    uniform: (min, max) => min + (max - min) * float(),
    lognormal(median, p99) {
      const sigma = Math.log(p99 / median) / z99;
      // Box–Muller; 1 - u keeps the logarithm's argument in (0, 1]
      const normal = Math.sqrt(-2 * Math.log(1 - float())) * Math.cos(2 * Math.PI * float());
      return median * Math.exp(sigma * normal);
    },
  };
}

/** A random 32-bit seed, for a simulator started without one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
