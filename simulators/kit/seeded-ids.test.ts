import { describe, expect, it } from 'vitest';
import { SeededIds, seededBytes } from './index.ts';

describe('seeded ids', () => {
  it('the same seed, purpose and counter give the same bytes; any other gives others', () => {
    const a = seededBytes(1, 'refresh-token', 0, 36);
    expect(a).toHaveLength(36);
    expect(seededBytes(1, 'refresh-token', 0, 36)).toEqual(a);
    expect(seededBytes(2, 'refresh-token', 0, 36)).not.toEqual(a);
    expect(seededBytes(1, 'ticket', 0, 36)).not.toEqual(a);
    expect(seededBytes(1, 'refresh-token', 1, 36)).not.toEqual(a);
    // longer than one SHA-256 block, and a prefix of the longer draw
    expect(seededBytes(1, 'x', 0, 72)).toHaveLength(72);
    expect(seededBytes(1, 'x', 0, 72).subarray(0, 16)).toEqual(seededBytes(1, 'x', 0, 16));
  });

  it('counts per purpose, and starts again after reset', () => {
    const ids = new SeededIds(7);
    const first = [ids.hex('sms', 16), ids.hex('sms', 16), ids.base64url('email', 16)];
    expect(first[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(first[0]).not.toBe(first[1]);
    const fresh = new SeededIds(7);
    expect([fresh.hex('sms', 16), fresh.hex('sms', 16), fresh.base64url('email', 16)]).toEqual(first);
    ids.reset();
    expect(ids.hex('sms', 16)).toBe(first[0]);
  });
});
