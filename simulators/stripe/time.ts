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
  // start near the answer instead of counting every period from the anchor: a long-lived cycle
  // would otherwise cost a step per period it has lived through, at every renewal
  let n = Math.max(1, periodsBetween(anchor, interval, count, after));
  while (n > 1 && addIntervals(anchor, interval, count, n - 1) > after) n--;
  while (addIntervals(anchor, interval, count, n) <= after) n++;
  return addIntervals(anchor, interval, count, n);
}

/** About how many whole periods lie between `anchor` and `at` (never more than one off). */
function periodsBetween(anchor: number, interval: Interval, count: number, at: number): number {
  if (at <= anchor) return 0;
  if (interval === 'day' || interval === 'week') {
    const length = (interval === 'day' ? 1 : 7) * count * daySeconds;
    return Math.floor((at - anchor) / length);
  }
  const from = new Date(anchor * 1000);
  const to = new Date(at * 1000);
  const months = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth();
  return Math.floor(months / ((interval === 'year' ? 12 : 1) * count));
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
