// Path patterns and the random source, without HTTP.
import { describe, expect, it } from 'vitest';
import { compilePathPattern } from './index.ts';
import { requestRandom } from './random.ts';

describe('path patterns', () => {
  it.each([
    ['/v1/customers', '/v1/customers', true],
    ['/v1/customers', '/v1/customers/', true],
    ['/v1/customers', '/v1/customers/cus_1', false],
    ['/v1/customers/*', '/v1/customers/cus_1', true],
    ['/v1/customers/*', '/v1/customers/cus_1/sources', false],
    ['/v1/customers/cus_*', '/v1/customers/cus_1', true],
    ['/v1/customers/cus_*', '/v1/customers/src_1', false],
    ['/v1/customers/:id', '/v1/customers/cus_1', true],
    ['/v1/customers/:id', '/v1/customers/', false],
    ['/v1/customers/:id/sources', '/v1/customers/cus_1/sources', true],
    ['/v1/**', '/v1', true],
    ['/v1/**', '/v1/a/b/c', true],
    ['/v1/**', '/v2/a', false],
    ['/**', '/anything/at/all', true],
    ['/services/data/v*/sobjects/**', '/services/data/v60.0/sobjects/Account/001', true],
    ['/a.b/(x)', '/a.b/(x)', true],
    ['/a.b/(x)', '/aXb/(x)', false],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(compilePathPattern(pattern).test(path)).toBe(expected);
  });
});

describe('random source', () => {
  it('one seed, fingerprint and occurrence give one sequence; any change gives another', () => {
    const draws = (seed: number, key: string, occurrence: number) => {
      const random = requestRandom(seed, key, occurrence);
      return [random.float(), random.float(), random.float()];
    };
    expect(draws(1, 'GET /a ', 1)).toEqual(draws(1, 'GET /a ', 1));
    expect(draws(1, 'GET /a ', 1)).not.toEqual(draws(2, 'GET /a ', 1));
    expect(draws(1, 'GET /a ', 1)).not.toEqual(draws(1, 'GET /b ', 1));
    expect(draws(1, 'GET /a ', 1)).not.toEqual(draws(1, 'GET /a ', 2));
  });

  it('floats are uniform; lognormal draws have the asked median and 99th percentile', () => {
    const floats: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const random = requestRandom(7, 'GET /x ', i);
      floats.push(random.float());
      delays.push(random.lognormal(40, 400));
    }
    const mean = floats.reduce((sum, value) => sum + value, 0) / floats.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    delays.sort((a, b) => a - b);
    expect(delays[10_000]! / 40).toBeGreaterThan(0.93);
    expect(delays[10_000]! / 40).toBeLessThan(1.07);
    expect(delays[19_800]! / 400).toBeGreaterThan(0.8);
    expect(delays[19_800]! / 400).toBeLessThan(1.25);
  });
});
