// The daily API allowance as jsforce sees it: conn.limits(), conn.limitInfo from Sforce-Limit-Info,
// and REQUEST_LIMIT_EXCEEDED once spent, until the next UTC day on the simulator clock.
import { describe, expect, it } from 'vitest';
import { call, loggedIn, rejectionOf, startSalesforce } from './testing.ts';

describe('jsforce and the daily allowance', () => {
  it('conn.limits() and conn.limitInfo count every call but the login', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    await conn.sobject('Task').create({ Subject: 'one' });
    expect(conn.limitInfo).toEqual({ apiUsage: { used: 1, limit: 15_000 } });
    const limits = await conn.limits();
    expect(limits.DailyApiRequests).toEqual({ Max: 15_000, Remaining: 14_998 });
    expect(conn.limitInfo.apiUsage).toEqual({ used: 2, limit: 15_000 });
  });

  it('REQUEST_LIMIT_EXCEEDED (403) once the allowance is spent, with the header; the next UTC day resets it', async () => {
    await using sim = await startSalesforce({
      config: { dailyApiLimit: 3 },
      clockStart: '2030-01-01T23:00:00Z',
      frozenClock: true,
    });
    const conn = await loggedIn(sim.url);
    for (let i = 0; i < 3; i++) await conn.sobject('Task').create({ Subject: `task ${i}` });
    const error = await rejectionOf(conn.sobject('Task').create({ Subject: 'one too many' }));
    expect(error).toMatchObject({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
      message: 'TotalRequests Limit exceeded.',
    });
    expect(conn.limitInfo.apiUsage).toEqual({ used: 3, limit: 3 });
    await sim.clock.advance(60 * 60_000);
    await conn.sobject('Task').create({ Subject: 'a new day' });
    expect(conn.limitInfo.apiUsage).toEqual({ used: 1, limit: 3 });
  });

  it('/_sim/api-usage reads and sets the usage, so a test can start at the edge', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const set = await call(`${sim.url}/_sim/api-usage`, { method: 'POST', json: { used: 14_999 } });
    expect(set.body).toEqual({ used: 14_999, max: 15_000, remaining: 1 });
    await conn.limits();
    expect((await rejectionOf(conn.limits())).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect((await call(`${sim.url}/_sim/api-usage`, { method: 'POST', json: { used: -1 } })).status).toBe(
      400,
    );
    await call(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect((await call(`${sim.url}/_sim/api-usage`)).body).toEqual({
      used: 0,
      max: 15_000,
      remaining: 15_000,
    });
  });
});
