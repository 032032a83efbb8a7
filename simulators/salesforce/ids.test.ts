import { describe, expect, it } from 'vitest';
import { checksumSuffix, createIdGenerator, isValidId, keyPrefixes, normalizeId } from './ids.ts';

describe('Salesforce ids', () => {
  it('computes the case-safe suffix of ids from Salesforce documentation', () => {
    expect(checksumSuffix('00190000001pPvH')).toBe('AAU');
    expect(checksumSuffix('001R00000033I6A')).toBe('IAU');
    expect(normalizeId('001R00000064wdt')).toBe('001R00000064wdtIAA');
  });

  it('accepts 15- and 18-character ids and refuses a wrong suffix or shape', () => {
    expect(normalizeId('00190000001pPvHaau')).toBe('00190000001pPvHAAU');
    expect(isValidId('00190000001pPvHAAU')).toBe(true);
    expect(isValidId('00190000001pPvHAAA')).toBe(false);
    expect(isValidId('001-not-an-id')).toBe(false);
    expect(isValidId(42)).toBe(false);
  });

  it('generates valid 18-character ids with the object key prefix, the same again after a reset', () => {
    const ids = createIdGenerator();
    const first = [ids.next(keyPrefixes.Account), ids.next(keyPrefixes.Task), ids.next(keyPrefixes.Account)];
    expect(first.map((id) => id.slice(0, 3))).toEqual(['001', '00T', '001']);
    for (const id of first) {
      expect(id).toHaveLength(18);
      expect(normalizeId(id)).toBe(id);
    }
    expect(first[0]).not.toBe(first[2]);
    ids.reset();
    expect(ids.next(keyPrefixes.Account)).toBe(first[0]);
  });

  it('encodes mixed-case counters so the suffix carries their case', () => {
    const ids = createIdGenerator();
    let id = '';
    for (let i = 0; i < 40; i++) id = ids.next(keyPrefixes.Case);
    // the 40th id's counter is base-62 "e": lower case, so upper-casing it gives a different record
    expect(id.slice(0, 15)).toMatch(/e$/);
    expect(normalizeId(id.slice(0, 15).toUpperCase())).not.toBe(id);
  });
});
