import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { createApiLimits } from './limits.ts';
import { errorOf } from './test-support.ts';

describe('daily API allowance', () => {
  it('counts calls in the Sforce-Limit-Info header and the /limits body', () => {
    const limits = createApiLimits({ clock: createManualClock(), dailyMax: 100 });
    expect(limits.headerValue()).toBe('api-usage=0/100');
    limits.consume();
    limits.consume();
    expect(limits.headerValue()).toBe('api-usage=2/100');
    expect(limits.limitsBody().DailyApiRequests).toEqual({ Max: 100, Remaining: 98 });
    expect(limits.usage()).toEqual({ used: 2, max: 100, remaining: 98 });
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once spent, until the next UTC day', () => {
    const clock = createManualClock(Date.parse('2025-03-01T23:59:00Z'));
    const limits = createApiLimits({ clock, dailyMax: 2 });
    limits.consume();
    limits.consume();
    const error = errorOf(() => limits.consume());
    expect(error.status).toBe(403);
    expect(error.toBody()).toEqual([
      { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' },
    ]);
    expect(limits.headerValue()).toBe('api-usage=2/2');
    clock.advance(60_000);
    expect(limits.headerValue()).toBe('api-usage=0/2');
    limits.consume();
    expect(limits.usage().remaining).toBe(1);
  });

  it('lets a test start near the limit, change the maximum, and reset to the configured start', () => {
    const limits = createApiLimits({ clock: createManualClock(), dailyMax: 10 });
    limits.setUsed(9);
    limits.consume();
    expect(errorOf(() => limits.consume()).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    limits.setMax(20);
    limits.consume();
    expect(limits.headerValue()).toBe('api-usage=11/20');
    limits.reset();
    expect(limits.headerValue()).toBe('api-usage=0/10');
  });
});
