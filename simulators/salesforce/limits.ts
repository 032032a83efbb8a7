import type { Clock } from './clock.ts';
import { requestLimitExceeded } from './errors.ts';
import { oneDayMs } from './soql/date-literals.ts';

export type ApiLimitsOptions = {
  clock: Clock;
  /** Calls allowed per day (a Developer Edition org gets 15,000). */
  dailyMax?: number;
};

/**
 * The org's daily API allowance: every REST call but the token endpoint spends one; when it is
 * spent, calls fail with 403 REQUEST_LIMIT_EXCEEDED until the next UTC day (Salesforce counts a
 * rolling 24 hours; a day boundary is what tests can reason about).
 */
export function createApiLimits(options: ApiLimitsOptions) {
  const { clock } = options;
  const initialMax = options.dailyMax ?? 15_000;
  let max = initialMax;
  let used = 0;
  let day = Math.floor(clock.now() / oneDayMs);

  const rollOver = () => {
    const today = Math.floor(clock.now() / oneDayMs);
    if (today !== day) {
      day = today;
      used = 0;
    }
  };

  return {
    /** Spends one call, or throws REQUEST_LIMIT_EXCEEDED when none is left. */
    consume(): void {
      rollOver();
      if (used >= max) throw requestLimitExceeded();
      used++;
    },

    usage(): { used: number; max: number; remaining: number } {
      rollOver();
      return { used, max, remaining: Math.max(0, max - used) };
    },

    /** The `Sforce-Limit-Info` header Salesforce sends on every REST response. */
    headerValue(): string {
      rollOver();
      return `api-usage=${used}/${max}`;
    },

    /** The body of `GET /limits`; only DailyApiRequests moves, the rest are a typical org's values. */
    limitsBody(): Record<string, { Max: number; Remaining: number }> {
      rollOver();
      return {
        DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
        DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
        DailyAsyncApexExecutions: { Max: 250_000, Remaining: 250_000 },
        DataStorageMB: { Max: 5, Remaining: 5 },
        FileStorageMB: { Max: 20, Remaining: 20 },
        SingleEmail: { Max: 15, Remaining: 15 },
        MassEmail: { Max: 10, Remaining: 10 },
      };
    },

    /** Sets the calls spent today, so a test can start near the limit. */
    setUsed(calls: number): void {
      rollOver();
      used = Math.max(0, Math.floor(calls));
    },

    setMax(calls: number): void {
      max = Math.max(0, Math.floor(calls));
    },

    reset(): void {
      max = initialMax;
      used = 0;
      day = Math.floor(clock.now() / oneDayMs);
    },
  };
}

export type ApiLimits = ReturnType<typeof createApiLimits>;
