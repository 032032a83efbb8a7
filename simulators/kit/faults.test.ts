// Fault rules over real HTTP: each fault kind, matching, precedence, count, probability, window, reset.
import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, elapsedSince, rawGet, startExample } from './example/testing.ts';
import type { StartedSimulator } from './index.ts';
import { Simulator } from './index.ts';

const started: StartedSimulator[] = [];
async function example(options: Parameters<typeof startExample>[0] = {}) {
  const sim = await startExample(options);
  started.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});

describe('fault kinds', () => {
  it('latency: fixed, uniform and lognormal delays are drawn, journaled and waited', async () => {
    const sim = await example();
    sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'latency', ms: 150 } });
    const start = performance.now();
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(145);

    sim.faults.clear();
    sim.faults.add({ fault: { kind: 'latency', uniform: { minMs: 20, maxMs: 60 } } });
    for (let i = 0; i < 4; i++) {
      const begin = performance.now();
      await call(sim.url, '/v1/ping');
      const drawn = sim.journal.entries().at(-1)!.fault as { kind: 'latency'; ms: number };
      expect(drawn.ms).toBeGreaterThanOrEqual(20);
      expect(drawn.ms).toBeLessThanOrEqual(60);
      expect(elapsedSince(begin)).toBeGreaterThanOrEqual(drawn.ms - 2);
    }

    sim.faults.clear();
    sim.faults.add({ fault: { kind: 'latency', lognormal: { medianMs: 5, p99Ms: 40, maxMs: 50 } } });
    for (let i = 0; i < 5; i++) await call(sim.url, '/v1/ping');
    const drawn = sim.journal
      .entries()
      .slice(-5)
      .map((entry) => (entry.fault as { ms: number }).ms);
    for (const ms of drawn) expect(ms).toBeGreaterThan(0);
    for (const ms of drawn) expect(ms).toBeLessThanOrEqual(50);
    expect(new Set(drawn).size).toBeGreaterThan(1);
  });

  it('error: the vendor-shaped body by default; a rule may give its own body and headers', async () => {
    const sim = await example();
    sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'error', status: 503 } });
    const vendor = await call(sim.url, '/v1/ping');
    expect(vendor.status).toBe(503);
    expect(vendor.body).toEqual({ error: { type: 'api_error', message: expect.any(String) } });
    expect(vendor.headers.get('request-id')).toMatch(/^req_/);

    sim.faults.add({
      match: { path: '/v1/ping' },
      fault: {
        kind: 'error',
        status: 402,
        body: { error: { code: 'card_declined' } },
        headers: { 'x-why': 'test' },
      },
    });
    const custom = await call(sim.url, '/v1/ping');
    expect(custom.status).toBe(402);
    expect(custom.body).toEqual({ error: { code: 'card_declined' } });
    expect(custom.headers.get('x-why')).toBe('test');
  });

  it("throttle: the vendor's 429 with its headers", async () => {
    const sim = await example();
    sim.faults.add({ fault: { kind: 'throttle', retryAfterS: 7 } });
    const answer = await call(sim.url, '/v1/ping');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('7');
    expect(answer.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(answer.body).toEqual({ error: { type: 'rate_limit_error', message: 'Too many requests' } });
  });

  it('reset: the connection is reset (ECONNRESET) and nothing is answered', async () => {
    const sim = await example();
    sim.faults.add({ match: { method: 'GET', path: '/v1/ping' }, fault: { kind: 'reset' } });
    expect(await rawGet(`${sim.url}/v1/ping`)).toEqual({ error: 'ECONNRESET' });
    expect(await rawGet(`${sim.url}/v1/charges/ch_0`)).toEqual({ status: 404 });
  });

  it('hang: no answer until the client gives up, and never longer than maxMs', async () => {
    const sim = await example();
    sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'hang' } });
    const start = performance.now();
    await expect(fetch(`${sim.url}/v1/ping`, { signal: AbortSignal.timeout(200) })).rejects.toThrow(
      /timeout/i,
    );
    expect(elapsedSince(start)).toBeLessThan(1_000);
    expect(sim.journal.entries().at(-1)!.fault).toEqual({ kind: 'hang', maxMs: 30_000 });

    sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'hang', maxMs: 150 } });
    const bounded = performance.now();
    expect(await rawGet(`${sim.url}/v1/ping`)).toEqual({ error: 'ECONNRESET' });
    expect(elapsedSince(bounded)).toBeGreaterThanOrEqual(140);
    expect(elapsedSince(bounded)).toBeLessThan(2_000);
  });

  it('hangMaxMs: a simulator may not default hangs past maxWaitMs (its journals must replay)', async () => {
    const state = { snapshot: () => ({}), reset() {} };
    for (const hangMaxMs of [1e12, 0, Number.NaN]) {
      await expect(new Simulator({ name: 'hangs', state, hangMaxMs }).start()).rejects.toThrow(
        /PW_SIM_BAD_CONFIG: hangMaxMs must be more than 0 and at most 600000 ms/,
      );
    }
  });

  it('outage: every matching request fails with the vendor 503 until the window ends', async () => {
    const sim = await example();
    sim.faults.add({ match: { path: '/v1/**' }, fault: { kind: 'outage', forMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      const answer = await call(sim.url, '/v1/ping');
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ error: { type: 'service_unavailable' } });
    }
    await sim.clock.advance(59_999);
    expect((await call(sim.url, '/v1/ping')).status).toBe(503);
    await sim.clock.advance(1);
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
  });
});

describe('matching', () => {
  it('on method, glob and :param paths, header values with wildcards, and tenant', async () => {
    const sim = await example();
    const api = admin(sim.url);
    await api.post('faults', [
      {
        id: 'by-param',
        match: { method: ['get'], path: '/v1/charges/:id' },
        fault: { kind: 'error', status: 500 },
      },
      {
        id: 'by-header',
        match: { headers: { 'X-Client': 'mobile-*' } },
        fault: { kind: 'error', status: 501 },
      },
      { id: 'by-tenant', match: { tenant: ['acct_b'] }, fault: { kind: 'error', status: 502 } },
    ]);
    expect((await call(sim.url, '/v1/charges/ch_9')).status).toBe(500);
    expect((await call(sim.url, '/v1/charges/ch_9/refunds')).status).toBe(404);
    expect((await call(sim.url, '/v1/charges', { method: 'POST', json: { amount: 1 } })).status).toBe(201);
    expect((await call(sim.url, '/v1/ping', { headers: { 'x-client': 'mobile-ios' } })).status).toBe(501);
    expect((await call(sim.url, '/v1/ping', { headers: { 'x-client': 'web' } })).status).toBe(200);
    expect((await call(sim.url, '/v1/ping', { headers: { 'example-account': 'acct_b' } })).status).toBe(502);
    expect((await call(sim.url, '/v1/ping', { headers: { 'example-account': 'acct_a' } })).status).toBe(200);
  });

  it('refuses tenant rules on a simulator that cannot tell tenants', async () => {
    const plain = await new Simulator({ name: 'plain', state: { snapshot: () => ({}), reset() {} } }).start();
    started.push(plain);
    const answer = await admin(plain.url).post('faults', {
      match: { tenant: 'a' },
      fault: { kind: 'reset' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/match\.tenant: this simulator does not tell which tenant/);
  });
});

describe('rule life', () => {
  it('a rule added later takes precedence; removing it uncovers the older one', async () => {
    const sim = await example();
    const [broad] = sim.faults.add({ match: { path: '/v1/**' }, fault: { kind: 'error', status: 500 } });
    const [narrow] = sim.faults.add({ match: { path: '/v1/ping' }, fault: { kind: 'error', status: 502 } });
    expect(sim.faults.list().map((rule) => rule.id)).toEqual([narrow!.id, broad!.id]);
    expect((await call(sim.url, '/v1/ping')).status).toBe(502);
    expect((await call(sim.url, '/v1/charges/x')).status).toBe(500);
    sim.faults.remove(narrow!.id);
    expect((await call(sim.url, '/v1/ping')).status).toBe(500);
    // within one list, later entries are the later additions
    sim.faults.add([
      { id: 'first', fault: { kind: 'error', status: 503 } },
      { id: 'second', fault: { kind: 'error', status: 504 } },
    ]);
    expect((await call(sim.url, '/v1/ping')).status).toBe(504);
  });

  it('count: fires that many times, then lets older rules or the route answer', async () => {
    const sim = await example();
    sim.faults.add({ id: 'twice', fault: { kind: 'error', status: 500 }, count: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sim.url, '/v1/ping')).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(sim.faults.list()[0]).toMatchObject({ id: 'twice', count: 2, fired: 2 });
    // a spent rule is no longer in play: nothing more is journaled
    expect(sim.journal.entries()).toHaveLength(2);
  });

  it('probability: fires on about that share of requests; every draw is journaled', async () => {
    const sim = await example();
    sim.faults.add({ fault: { kind: 'error', status: 500 }, probability: 0.3 });
    let failed = 0;
    for (let i = 0; i < 200; i++) if ((await call(sim.url, '/v1/ping')).status === 500) failed++;
    expect(failed).toBeGreaterThan(35);
    expect(failed).toBeLessThan(85);
    const entries = sim.journal.entries();
    expect(entries).toHaveLength(200);
    expect(entries.filter((entry) => entry.fault !== null)).toHaveLength(failed);
    expect(entries.find((entry) => entry.fault === null)).toMatchObject({ rule: null, fault: null });

    sim.faults.clear();
    sim.faults.add({ fault: { kind: 'error', status: 500 }, probability: 0 });
    for (let i = 0; i < 20; i++) expect((await call(sim.url, '/v1/ping')).status).toBe(200);
  });

  it('window: relative (afterMs, forMs) and absolute (from, until) on the simulator clock', async () => {
    const sim = await example();
    sim.faults.add({ fault: { kind: 'error', status: 500 }, window: { afterMs: 1_000, forMs: 1_000 } });
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    await sim.clock.advance(1_000);
    expect((await call(sim.url, '/v1/ping')).status).toBe(500);
    await sim.clock.advance(1_000);
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);

    sim.faults.add({
      fault: { kind: 'error', status: 501 },
      window: { from: '2030-01-01T01:00:00Z', until: Date.parse('2030-01-01T02:00:00Z') },
    });
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    await sim.clock.setTo('2030-01-01T01:30:00Z');
    expect((await call(sim.url, '/v1/ping')).status).toBe(501);
    await sim.clock.setTo('2030-01-01T02:00:00Z');
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
  });

  it('window: a time a date cannot show, or over 100 years ahead, is a 400 PW_SIM_BAD_TIME', async () => {
    const sim = await example();
    for (const window of [
      { until: 1e300 },
      { from: -1e300 },
      { until: '2200-01-01T00:00:00Z' },
      { from: Date.parse('2131-01-01T00:00:00Z') },
    ]) {
      const answer = await admin(sim.url).post('faults', { fault: { kind: 'error', status: 500 }, window });
      expect(answer.status, JSON.stringify(window)).toBe(400);
      expect(answer.body.error, JSON.stringify(window)).toMatchObject({
        code: 'PW_SIM_BAD_TIME',
        message: expect.stringMatching(
          /window\.(from|until) is (outside the range of a date|.* more than 100 years after)/,
        ),
      });
    }
    // nothing was added; the simulator and its admin API still answer
    expect(sim.faults.list()).toEqual([]);
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    expect((await admin(sim.url).get('faults')).status).toBe(200);
    const farButFine = await admin(sim.url).post('faults', {
      fault: { kind: 'error', status: 500 },
      window: { from: '1970-01-01T00:00:00Z', until: '2129-01-01T00:00:00Z' },
    });
    expect(farButFine.body.rules[0].window).toEqual({
      from: '1970-01-01T00:00:00.000Z',
      until: '2129-01-01T00:00:00.000Z',
    });
  });

  it('reset restores the default rules with nothing fired, and the state', async () => {
    const sim = await example({
      faults: [{ id: 'default-throttle', match: { path: '/v1/charges/*' }, fault: { kind: 'throttle' } }],
    });
    expect((await call(sim.url, '/v1/charges/x')).status).toBe(429);
    sim.faults.add({ id: 'extra', fault: { kind: 'error', status: 500 } });
    await call(sim.url, '/v1/charges', { method: 'POST', json: { amount: 5 } });
    sim.faults.clear();
    expect(sim.faults.list()).toEqual([]);

    const answer = await admin(sim.url).post('reset');
    expect(answer.status).toBe(200);
    expect(answer.body.rules).toEqual([
      expect.objectContaining({ id: 'default-throttle', fired: 0, isDefault: true }),
    ]);
    expect((await admin(sim.url).get('state')).body.charges).toEqual([]);
    expect((await call(sim.url, '/v1/charges/x')).status).toBe(429);
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
  });
});
