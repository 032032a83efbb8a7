export type Interval = 'day' | 'week' | 'month' | 'year';

export const daySeconds = 86_400;
export const hourSeconds = 3_600;

export const toSeconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The end of the `n`-th period after `anchor` (Unix seconds, UTC). Months are counted from the
 * anchor, not chained, so an anchor on the 31st bills on the 30th in April and again on the 31st in
 * May, as Stripe's billing cycles do.
 */
export function addIntervals(anchor: number, interval: Interval, count: number, n = 1): number {
  if (interval === 'day') return anchor + n * count * daySeconds;
  if (interval === 'week') return anchor + n * count * 7 * daySeconds;
  const date = new Date(anchor * 1000);
  const months = (interval === 'year' ? 12 : 1) * count * n;
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return toSeconds(
    Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()),
  );
}

/**
 * The next period boundary after `after` for a cycle anchored at `anchor`: the smallest
 * `addIntervals(anchor, …, n)` greater than `after`.
 */
export function nextBoundary(anchor: number, interval: Interval, count: number, after: number): number {
  let n = 1;
  let end = addIntervals(anchor, interval, count, n);
  while (end <= after) {
    n++;
    end = addIntervals(anchor, interval, count, n);
  }
  return end;
}

/**
 * Whether a card is expired at `at` (Unix seconds): a card is good through the last moment of its
 * expiry month, so 12/2030 fails from 2031-01-01T00:00Z on.
 */
export function isCardExpired(expMonth: number, expYear: number, at: number): boolean {
  return at >= toSeconds(Date.UTC(expYear, expMonth, 1));
}

/** Year and month (1–12) in UTC. */
export function yearMonth(at: number): { year: number; month: number } {
  const date = new Date(at * 1000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}
