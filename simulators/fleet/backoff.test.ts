import { describe, expect, it } from 'vitest';
import { seededRandom } from '../kit/index.ts';
import { Backoff } from './backoff.ts';

const draws = (backoff: Backoff, count: number) => Array.from({ length: count }, () => backoff.next());
const seeded = (key: string) => seededRandom(7, key).float;

describe('backoff', () => {
  it('none retries at once', () => {
    expect(draws(new Backoff({ strategy: 'none' }), 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('exponential doubles from base up to cap', () => {
    const backoff = new Backoff({ strategy: 'exponential', baseMs: 100, capMs: 1_000 });
    expect(draws(backoff, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('full jitter stays in [0, min(cap, base·2^n)]', () => {
    const backoff = new Backoff({
      strategy: 'full-jitter',
      baseMs: 100,
      capMs: 1_000,
      random: seeded('full'),
    });
    for (let round = 0; round < 200; round++) {
      const attempt = backoff.attempts;
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(1_000, 100 * 2 ** attempt));
      if (round % 20 === 19) backoff.reset();
    }
  });

  it('equal jitter stays in [ceiling/2, ceiling]', () => {
    const backoff = new Backoff({
      strategy: 'equal-jitter',
      baseMs: 100,
      capMs: 1_000,
      random: seeded('equal'),
    });
    for (let round = 0; round < 100; round++) {
      const ceiling = Math.min(1_000, 100 * 2 ** backoff.attempts);
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('decorrelated jitter stays in [base, min(cap, 3·previous)]', () => {
    const backoff = new Backoff({
      strategy: 'decorrelated-jitter',
      baseMs: 100,
      capMs: 5_000,
      random: seeded('decorrelated'),
    });
    let previous = 100;
    for (let round = 0; round < 200; round++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(Math.min(5_000, previous * 3));
      previous = delay;
    }
  });

  it('jitter spreads the fleet: same seed same delays, different seeds differ', () => {
    const make = (key: string) =>
      new Backoff({ strategy: 'full-jitter', baseMs: 100, capMs: 10_000, random: seeded(key) });
    expect(draws(make('a'), 5)).toEqual(draws(make('a'), 5));
    expect(draws(make('a'), 5)).not.toEqual(draws(make('b'), 5));
  });

  it('honours Retry-After as a floor, for every strategy', () => {
    for (const strategy of [
      'none',
      'exponential',
      'full-jitter',
      'equal-jitter',
      'decorrelated-jitter',
    ] as const) {
      const backoff = new Backoff({ strategy, baseMs: 10, capMs: 100, random: seeded(strategy) });
      expect(backoff.next(2_000)).toBeGreaterThanOrEqual(2_000);
      expect(backoff.next(2_000)).toBeLessThanOrEqual(2_000);
    }
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff({ strategy: 'exponential', baseMs: 100, capMs: 10 })).toThrow(RangeError);
  });
});
