import { describe, expect, it } from 'vitest';
import { createIdGenerator, seededRandom } from './ids.ts';

describe('ids', () => {
  it('uses Stripe prefixes and lengths', () => {
    const ids = createIdGenerator(seededRandom(1));
    expect(ids.next('cus')).toMatch(/^cus_[0-9A-Za-z]{14}$/);
    expect(ids.next('pi')).toMatch(/^pi_[0-9A-Za-z]{24}$/);
  });

  it('repeats the same ids for the same seed and differs for another', () => {
    const a = createIdGenerator(seededRandom('run-7'));
    const b = createIdGenerator(seededRandom('run-7'));
    const c = createIdGenerator(seededRandom('run-8'));
    const first = [a.next('cus'), a.next('sub')];
    expect([b.next('cus'), b.next('sub')]).toEqual(first);
    expect(c.next('cus')).not.toBe(first[0]);
  });

  it('does not collide over many ids', () => {
    const ids = createIdGenerator(seededRandom(42));
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(ids.next('evt'));
    expect(seen.size).toBe(50_000);
  });
});
