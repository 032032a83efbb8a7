// The kit's faults in Salesforce's own shapes, as jsforce reads them, and a seeded journal that
// comes out the same when the same requests are made with the same seed.
import { describe, expect, it } from 'vitest';
import { decisionsOf, type FaultRuleInput } from '../kit/index.ts';
import { admin, call, connectionTo, integration, loggedIn, rejectionOf, startSalesforce } from './testing.ts';

const createTask = { method: 'POST', path: '/services/data/*/sobjects/Task' };

describe('faults as Salesforce answers them', () => {
  it('throttle: jsforce sees REQUEST_LIMIT_EXCEEDED (403) with Sforce-Limit-Info, and the rule wears off', async () => {
    await using sim = await startSalesforce({
      faults: [{ match: createTask, fault: { kind: 'throttle', retryAfterS: 2 }, count: 1 }],
    });
    const conn = await loggedIn(sim.url);
    const error = await rejectionOf(conn.sobject('Task').create({ Subject: 'throttled' }));
    expect(error).toMatchObject({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
      message: 'TotalRequests Limit exceeded.',
    });
    expect(conn.limitInfo.apiUsage).toEqual({ used: 0, limit: 15_000 });
    expect((await conn.sobject('Task').create({ Subject: 'fine' })).success).toBe(true);
    const raw = await call(`${sim.url}/services/data/v62.0/sobjects/Task`, { method: 'POST', json: {} });
    expect(raw.status).toBe(401); // the rule is spent: the request reaches the simulator
  });

  it('throttle headers on the wire: 403, Retry-After and the limit header', async () => {
    await using sim = await startSalesforce({
      faults: [{ match: createTask, fault: { kind: 'throttle', retryAfterS: 2 } }],
    });
    const answer = await call(`${sim.url}/services/data/v62.0/sobjects/Task`, { method: 'POST', json: {} });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual([
      { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
    expect(answer.headers.get('retry-after')).toBe('2');
    expect(answer.headers.get('sforce-limit-info')).toBe('api-usage=0/15000');
  });

  it('error: the error array with the code Salesforce pairs with the status; a rule may give its own body', async () => {
    await using sim = await startSalesforce({
      faults: [
        {
          match: { method: 'POST', path: '/services/data/*/sobjects/Account' },
          fault: { kind: 'error', status: 500 },
        },
        {
          match: { path: '/services/data/*/sobjects/Case' },
          fault: {
            kind: 'error',
            status: 400,
            body: [{ message: 'Case is locked', errorCode: 'UNABLE_TO_LOCK_ROW' }],
          },
        },
      ],
    });
    const conn = await loggedIn(sim.url);
    expect(await rejectionOf(conn.sobject('Account').create({ Name: 'x' }))).toMatchObject({
      errorCode: 'UNKNOWN_EXCEPTION',
      message: '500 injected by a fault rule',
    });
    expect((await rejectionOf(conn.sobject('Case').create({ Subject: 'x' }))).errorCode).toBe(
      'UNABLE_TO_LOCK_ROW',
    );
  });

  it('jsforce retries a GET that met a 5xx (after 500 ms): one injected 503 costs a retry, not a failure', async () => {
    await using sim = await startSalesforce({
      faults: [
        { match: { path: '/services/data/*/query' }, fault: { kind: 'error', status: 503 }, count: 1 },
      ],
    });
    const conn = await loggedIn(sim.url);
    expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(0);
    expect(sim.journal.entries().map((e) => e.fault?.kind ?? null)).toEqual(['error']);
  });

  it('outage: 503 SERVER_UNAVAILABLE with Retry-After until the window ends on the simulator clock', async () => {
    await using sim = await startSalesforce({
      frozenClock: true,
      faults: [{ match: { path: '/services/data/**' }, fault: { kind: 'outage', forMs: 60_000 } }],
    });
    const conn = await loggedIn(sim.url);
    // a POST, which jsforce does not retry (its GETs would retry for 15 s before giving up)
    const error = await rejectionOf(conn.sobject('Task').create({ Subject: 'during the outage' }));
    expect(error).toMatchObject({ errorCode: 'SERVER_UNAVAILABLE' });
    const raw = await call(`${sim.url}/services/data/v62.0/limits`);
    expect([raw.status, raw.headers.get('retry-after')]).toEqual([503, '60']);
    await sim.clock.advance(60_000);
    expect((await conn.sobject('Task').create({ Subject: 'after' })).success).toBe(true);
  });

  it('on the OAuth endpoints faults answer in OAuth error shape, which jsforce names', async () => {
    await using sim = await startSalesforce({
      faults: [{ match: { path: '/services/oauth2/token' }, fault: { kind: 'throttle' }, count: 1 }],
    });
    const throttled = await rejectionOf(connectionTo(sim.url).login(admin.username, admin.password));
    expect(throttled).toMatchObject({ name: 'invalid_grant', message: 'Login Rate Exceeded' });
    await loggedIn(sim.url);
    sim.faults.add({ match: { path: '/services/oauth2/**' }, fault: { kind: 'outage', forMs: 60_000 } });
    const down = await rejectionOf(connectionTo(sim.url).login(admin.username, admin.password));
    expect(down).toMatchObject({ name: 'temporarily_unavailable', message: 'Service Unavailable' });
  });

  it('match.tenant is the username behind the access token (or the one logging in)', async () => {
    await using sim = await startSalesforce({
      faults: [{ match: { tenant: integration.username }, fault: { kind: 'error', status: 503 } }],
    });
    const conn = await loggedIn(sim.url);
    expect((await conn.sobject('Account').create({ Name: 'admin is fine' })).success).toBe(true);
    const login = await rejectionOf(
      connectionTo(sim.url).login(integration.username, integration.password + integration.securityToken),
    );
    expect(login.name).toBe('server_error');
  });
});

describe('determinism', () => {
  const rules: FaultRuleInput[] = [
    { id: 'flaky-tasks', match: createTask, fault: { kind: 'error', status: 503 }, probability: 0.5 },
    {
      id: 'slow-queries',
      match: { path: '/services/data/*/query' },
      fault: { kind: 'latency', uniform: { minMs: 1, maxMs: 5 } },
    },
  ];

  /** The same requests, one at a time; returns the journal's decisions (without per-run meta). */
  async function run(seed: number) {
    await using sim = await startSalesforce({ seed, faults: rules });
    const conn = await loggedIn(sim.url);
    for (let i = 0; i < 12; i++) {
      await conn
        .sobject('Task')
        .create({ Subject: `task ${i % 4}` })
        .catch(() => undefined);
      await conn.query('SELECT Id FROM Task LIMIT 1');
    }
    return decisionsOf(sim.journal.entries());
  }

  it('the same seed gives the same journal; another seed other decisions', async () => {
    const first = await run(42);
    expect(first).toHaveLength(24);
    expect(first.filter((d) => d.rule === 'flaky-tasks').length).toBeGreaterThan(0);
    expect(first.filter((d) => d.fault === null).length).toBeGreaterThan(0);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
  });
});
