const dayMs = 86_400_000;

/** A half-open range of epoch milliseconds: start ≤ t < end. */
export type TimeRange = { start: number; end: number };

const startOfDay = (ms: number) => Math.floor(ms / dayMs) * dayMs;

/**
 * The range a date literal covers at `nowMs`, in UTC (the simulated org's time zone).
 * Weeks start on Sunday, as in Salesforce's default locale.
 */
export function dateLiteralRange(name: string, n: number | undefined, nowMs: number): TimeRange {
  const today = startOfDay(nowMs);
  const days = (from: number, count: number) => ({ start: from, end: from + count * dayMs });
  const date = new Date(today);
  const weekStart = today - date.getUTCDay() * dayMs;
  const month = (offset: number) => ({
    start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1),
    end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset + 1, 1),
  });
  switch (name) {
    case 'TODAY':
      return days(today, 1);
    case 'YESTERDAY':
      return days(today - dayMs, 1);
    case 'TOMORROW':
      return days(today + dayMs, 1);
    case 'THIS_WEEK':
      return days(weekStart, 7);
    case 'LAST_WEEK':
      return days(weekStart - 7 * dayMs, 7);
    case 'NEXT_WEEK':
      return days(weekStart + 7 * dayMs, 7);
    case 'THIS_MONTH':
      return month(0);
    case 'LAST_MONTH':
      return month(-1);
    case 'NEXT_MONTH':
      return month(1);
    // LAST_N_DAYS:n counts today; NEXT_N_DAYS:n starts tomorrow
    case 'LAST_N_DAYS':
      return { start: today - ((n ?? 0) - 1) * dayMs, end: today + dayMs };
    case 'NEXT_N_DAYS':
      return days(today + dayMs, n ?? 0);
    case 'LAST_90_DAYS':
      return { start: today - 89 * dayMs, end: today + dayMs };
    case 'NEXT_90_DAYS':
      return days(today + dayMs, 90);
    // whole weeks before the current one, or after it
    case 'LAST_N_WEEKS':
      return { start: weekStart - 7 * (n ?? 0) * dayMs, end: weekStart };
    case 'NEXT_N_WEEKS':
      return days(weekStart + 7 * dayMs, 7 * (n ?? 0));
    default:
      throw new Error(
        `SF_UNKNOWN_DATE_LITERAL: ${name} reached the evaluator; the parser should have refused it`,
      );
  }
}

/** Epoch milliseconds of a stored date (`2025-01-31`) or dateTime (`2025-01-31T10:00:00.000+0000`). */
export function storedTimeMs(value: string): number {
  return Date.parse(
    value.length === 10 ? `${value}T00:00:00Z` : value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'),
  );
}

export const oneDayMs = dayMs;
