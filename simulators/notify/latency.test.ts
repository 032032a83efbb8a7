import { describe, expect, it } from 'vitest';
import { drawLatencyMs, latencySchema } from './latency.ts';

describe('drawLatencyMs', () => {
  it('fixed, uniform within its range, lognormal with the asked median and 99th percentile', () => {
    expect(drawLatencyMs({ ms: 12 }, 1, 'a')).toBe(12);
    const uniform = Array.from({ length: 500 }, (_, i) =>
      drawLatencyMs({ uniform: { minMs: 10, maxMs: 20 } }, 1, `u${i}`),
    );
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...uniform)).toBeLessThanOrEqual(20);
    const draws = Array.from({ length: 20_000 }, (_, i) =>
      drawLatencyMs({ lognormal: { medianMs: 40, p99Ms: 400 } }, 1, `l${i}`),
    ).sort((a, b) => a - b);
    expect(draws[10_000]).toBeGreaterThan(36);
    expect(draws[10_000]).toBeLessThan(44);
    expect(draws[19_800]).toBeGreaterThan(340);
    expect(draws[19_800]).toBeLessThan(470);
  });

  it('is a function of the seed and the key only; maxMs caps the tail', () => {
    const spec = { lognormal: { medianMs: 40, p99Ms: 400 } };
    expect(drawLatencyMs(spec, 3, 'k')).toBe(drawLatencyMs(spec, 3, 'k'));
    expect(drawLatencyMs(spec, 3, 'k')).not.toBe(drawLatencyMs(spec, 4, 'k'));
    const capped = { lognormal: { medianMs: 40, p99Ms: 4000, maxMs: 50 } };
    for (let i = 0; i < 200; i++) expect(drawLatencyMs(capped, 1, `c${i}`)).toBeLessThanOrEqual(50);
  });

  it('takes exactly one shape, in order', () => {
    expect(latencySchema.safeParse({}).success).toBe(false);
    expect(latencySchema.safeParse({ ms: 1, uniform: { minMs: 1, maxMs: 2 } }).success).toBe(false);
    expect(latencySchema.safeParse({ uniform: { minMs: 3, maxMs: 2 } }).success).toBe(false);
    expect(latencySchema.safeParse({ lognormal: { medianMs: 30, p99Ms: 20 } }).success).toBe(false);
  });
});
