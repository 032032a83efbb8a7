import { describe, expect, it } from 'vitest';
import { addIntervals, isCardExpired, nextBoundary } from './time.ts';

const at = (iso: string) => Date.parse(iso) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

describe('billing intervals', () => {
  it('counts months from the anchor and clamps to the end of short months', () => {
    const anchor = at('2031-01-31T10:00:00Z');
    expect(iso(addIntervals(anchor, 'month', 1, 1))).toBe('2031-02-28T10:00:00.000Z');
    expect(iso(addIntervals(anchor, 'month', 1, 2))).toBe('2031-03-31T10:00:00.000Z');
    expect(iso(addIntervals(anchor, 'month', 1, 3))).toBe('2031-04-30T10:00:00.000Z');
  });

  it('handles years (leap day), weeks, days and interval counts', () => {
    expect(iso(addIntervals(at('2032-02-29T00:00:00Z'), 'year', 1))).toBe('2033-02-28T00:00:00.000Z');
    expect(iso(addIntervals(at('2031-01-01T00:00:00Z'), 'week', 2))).toBe('2031-01-15T00:00:00.000Z');
    expect(iso(addIntervals(at('2031-01-01T00:00:00Z'), 'day', 1, 3))).toBe('2031-01-04T00:00:00.000Z');
    expect(iso(addIntervals(at('2031-01-15T00:00:00Z'), 'month', 3))).toBe('2031-04-15T00:00:00.000Z');
  });

  it('finds the next boundary after a time', () => {
    const anchor = at('2031-01-31T00:00:00Z');
    expect(iso(nextBoundary(anchor, 'month', 1, at('2031-03-05T00:00:00Z')))).toBe(
      '2031-03-31T00:00:00.000Z',
    );
    expect(iso(nextBoundary(anchor, 'month', 1, at('2031-03-31T00:00:00Z')))).toBe(
      '2031-04-30T00:00:00.000Z',
    );
  });
});

describe('card expiry', () => {
  it('is good through the last second of the expiry month', () => {
    expect(isCardExpired(12, 2030, at('2030-12-31T23:59:59Z'))).toBe(false);
    expect(isCardExpired(12, 2030, at('2031-01-01T00:00:00Z'))).toBe(true);
    expect(isCardExpired(2, 2031, at('2031-03-01T00:00:00Z'))).toBe(true);
  });
});
