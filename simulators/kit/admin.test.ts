// The admin API under /_sim/: every endpoint, and a 400 that says what to fix for every bad input.
import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, startExample } from './example/testing.ts';
import { SimClock, Simulator, type StartedSimulator } from './index.ts';

const started: StartedSimulator[] = [];
async function example() {
  const sim = await startExample({ seed: 5 });
  started.push(sim);
  return { sim, api: admin(sim.url) };
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});

describe('admin API', () => {
  it('health, state and reset', async () => {
    const { sim, api } = await example();
    expect((await api.get('health')).body).toEqual({
      ok: true,
      simulator: 'example',
      seed: 5,
      mode: 'rules',
      uptimeMs: expect.any(Number),
      clock: '2030-01-01T00:00:00.000Z',
    });
    await call(sim.url, '/v1/charges', { method: 'POST', json: { amount: 3 } });
    expect((await api.get('state')).body.charges).toEqual([
      expect.objectContaining({ id: 'ch_1', amount: 3 }),
    ]);
    expect((await api.post('reset')).status).toBe(200);
    expect((await api.get('state')).body.charges).toEqual([]);
  });

  it('faults: add one or a list, list newest first, delete one, delete all', async () => {
    const { api } = await example();
    const one = await api.post('faults', { id: 'a', fault: { kind: 'reset' } });
    expect(one.status).toBe(201);
    expect(one.body.rules).toEqual([
      {
        id: 'a',
        match: {},
        fault: { kind: 'reset' },
        probability: 1,
        count: null,
        fired: 0,
        window: { from: null, until: null },
        addedAt: '2030-01-01T00:00:00.000Z',
        isDefault: false,
      },
    ]);
    const many = await api.post('faults', [
      { fault: { kind: 'throttle' }, window: { afterMs: 1000, forMs: 500 } },
      { fault: { kind: 'error', status: 500 }, count: 1, probability: 0.5 },
    ]);
    expect(many.body.rules.map((rule: { id: string }) => rule.id)).toEqual(['rule_1', 'rule_2']);
    expect(many.body.rules[0].window).toEqual({
      from: '2030-01-01T00:00:01.000Z',
      until: '2030-01-01T00:00:01.500Z',
    });
    expect((await api.get('faults')).body.rules.map((rule: { id: string }) => rule.id)).toEqual([
      'rule_2',
      'rule_1',
      'a',
    ]);
    expect((await api.delete('faults/rule_1')).body).toEqual({ removed: 'rule_1' });
    const missing = await api.delete('faults/rule_1');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/no rule "rule_1"/);
    expect((await api.delete('faults')).body).toEqual({ removed: 2 });
    expect((await api.get('faults')).body.rules).toEqual([]);
  });

  it.each([
    ['a body that is not JSON', '{nope', /not valid JSON|could not be read/],
    ['no body', undefined, /give a rule or a list of rules/],
    [
      'an unknown field',
      { fault: { kind: 'reset' }, probabilty: 0.5 },
      /rule: Unrecognized key: "probabilty"/,
    ],
    ['an unknown fault', { fault: { kind: 'explode' } }, /fault\.kind: Invalid discriminator value/],
    [
      'an error status that is no error',
      { fault: { kind: 'error', status: 200 } },
      /fault\.status: Too small/,
    ],
    [
      'two latency shapes',
      { fault: { kind: 'latency', ms: 5, uniform: { minMs: 1, maxMs: 2 } } },
      /exactly one of ms, uniform or lognormal/,
    ],
    [
      'a uniform range upside down',
      { fault: { kind: 'latency', uniform: { minMs: 9, maxMs: 2 } } },
      /minMs must not exceed maxMs/,
    ],
    [
      'a lognormal p99 under its median',
      { fault: { kind: 'latency', lognormal: { medianMs: 9, p99Ms: 2 } } },
      /p99Ms must be greater/,
    ],
    ['a probability over 1', { fault: { kind: 'reset' }, probability: 2 }, /probability: Too big/],
    ['a count of 0', { fault: { kind: 'reset' }, count: 0 }, /count: Too small/],
    ['an outage without an end', { fault: { kind: 'outage' } }, /an outage needs an end/],
    [
      'an outage with a probability',
      { fault: { kind: 'outage', forMs: 10 }, probability: 0.5 },
      /takes no probability/,
    ],
    [
      'a window that is no time',
      { fault: { kind: 'reset' }, window: { from: 'soon' } },
      /window\.from is not a time/,
    ],
    [
      'a path that is no path',
      { match: { path: 'v1/x' }, fault: { kind: 'reset' } },
      /match\.path: a path pattern starts with/,
    ],
    ['a hang beyond 10 minutes', { fault: { kind: 'hang', maxMs: 3_600_000 } }, /fault\.maxMs: Too big/],
    ['a bad rule in a list', [{ fault: { kind: 'reset' } }, { fault: {} }], /\[1\]\.fault\.kind/],
    ['an empty list', [], /give at least one rule/],
  ])('POST faults with %s is a 400 naming the mistake, and adds nothing', async (_what, body, message) => {
    const { sim, api } = await example();
    const answer =
      typeof body === 'string'
        ? await call(sim.url, '/_sim/faults', {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          })
        : await api.post('faults', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toMatch(/^PW_SIM_BAD_/);
    expect(answer.body.error.message).toMatch(message);
    expect(sim.faults.list()).toEqual([]);
  });

  it('a duplicate rule id is a 400', async () => {
    const { api } = await example();
    await api.post('faults', { id: 'x', fault: { kind: 'reset' } });
    const again = await api.post('faults', { id: 'x', fault: { kind: 'reset' } });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/a rule with id "x" already exists/);
  });

  it('journal: ?since= must be a number', async () => {
    const { api } = await example();
    expect((await api.get('journal')).body).toEqual({
      simulator: 'example',
      seed: 5,
      entries: [],
      dropped: 0,
      nextSeq: 0,
    });
    const bad = await api.get('journal?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/since must be a sequence number/);
  });

  it("clock: read, advance and set run the simulator's hook; it never goes back", async () => {
    const { sim, api } = await example();
    await call(sim.url, '/v1/charges', { method: 'POST', json: { amount: 3 } });
    expect((await api.get('clock')).body).toEqual({
      now: '2030-01-01T00:00:00.000Z',
      nowMs: Date.parse('2030-01-01'),
      frozen: true,
    });
    const advanced = await api.post('clock', { advanceMs: 3_600_000 });
    expect(advanced.body).toEqual({
      from: '2030-01-01T00:00:00.000Z',
      to: '2030-01-01T01:00:00.000Z',
      now: '2030-01-01T01:00:00.000Z',
    });
    const state = (await api.get('state')).body;
    expect(state.advances).toEqual([{ from: '2030-01-01T00:00:00.000Z', to: '2030-01-01T01:00:00.000Z' }]);
    expect(state.charges[0].status).toBe('expired');
    expect((await api.post('clock', { setTo: '2030-02-01T00:00:00Z' })).body.to).toBe(
      '2030-02-01T00:00:00.000Z',
    );

    for (const [body, message] of [
      [{ setTo: '2029-01-01T00:00:00Z' }, /cannot set the clock back/],
      [{ advanceMs: -5 }, /advanceMs must be a number of milliseconds, 0 or more/],
      [{ advanceMs: '5' }, /advanceMs must be a number/],
      [{ setTo: 'someday' }, /setTo is not a time/],
      [{}, /give exactly one of/],
      [{ advanceMs: 1, setTo: 2 }, /give exactly one of/],
    ] as const) {
      const answer = await api.post('clock', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toMatch(message);
    }
    expect((await api.get('clock')).body.now).toBe('2030-02-01T00:00:00.000Z');
  });

  it('clock: a time it cannot hold is a 400 PW_SIM_BAD_TIME, and the simulator keeps working', async () => {
    const { sim, api } = await example();
    await api.post('faults', { id: 'slow', match: { path: '/v1/ping' }, fault: { kind: 'latency', ms: 0 } });
    const yearMs = 365.25 * 24 * 3_600_000;
    for (const [body, message] of [
      [{ advanceMs: 1e300 }, /advanceMs must be from 0 to .* \(100 years\), not 1e\+300/],
      [{ advanceMs: 101 * yearMs }, /advanceMs must be from 0 to/],
      [{ setTo: 1e300 }, /setTo is outside the range of a date/],
      [{ setTo: -1e300 }, /setTo is outside the range of a date/],
      [{ setTo: '2200-01-01T00:00:00Z' }, /setTo is 2200-01-01T00:00:00.000Z, more than 100 years after/],
    ] as const) {
      const answer = await api.post('clock', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error, JSON.stringify(body)).toMatchObject({
        code: 'PW_SIM_BAD_TIME',
        message: expect.stringMatching(message),
      });
    }
    expect((await api.get('health')).status).toBe(200);
    expect((await api.get('state')).status).toBe(200);
    expect((await api.get('clock')).body.now).toBe('2030-01-01T00:00:00.000Z');
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    expect(sim.journal.entries()).toHaveLength(1);
    // up to 100 years is fine
    expect((await api.post('clock', { advanceMs: 99 * yearMs })).status).toBe(200);
    expect((await api.get('health')).body.clock).toMatch(/^2129-/);
  });

  it('clock: never moves past what a date can show, however many advances', async () => {
    const clock = new SimClock({ frozen: true, start: 8.64e15 - 1000 });
    await expect(clock.advance(2000)).rejects.toMatchObject({
      code: 'PW_SIM_BAD_TIME',
      message: expect.stringMatching(/outside the range of a date/),
    });
    await expect(clock.setTo(8.64e15 + 1)).rejects.toMatchObject({ code: 'PW_SIM_BAD_TIME' });
    expect(clock.date().toISOString()).toBe('+275760-09-12T23:59:59.000Z');
    expect(() => new SimClock({ start: 1e300 })).toThrow(/PW_SIM_BAD_TIME: clock.start is outside/);
  });

  it('clock: 404 on a simulator that declares none', async () => {
    const sim = await new Simulator({
      name: 'timeless',
      state: { snapshot: () => ({}), reset() {} },
    }).start();
    started.push(sim);
    const answer = await admin(sim.url).get('clock');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({
      code: 'PW_SIM_NO_CLOCK',
      message: expect.stringMatching(/timeless simulator has no clock/),
    });
  });

  it("a simulator's own admin routes are served; an unknown endpoint is a 404 listing the real ones", async () => {
    const { api } = await example();
    expect((await api.get('deliveries')).body).toEqual({ deliveries: [] });
    const unknown = await api.get('nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(
      /no admin endpoint GET \/_sim\/nothing-here; the admin API serves: GET health/,
    );
  });

  it('is never faulted', async () => {
    const { sim, api } = await example();
    await api.post('faults', { fault: { kind: 'reset' } });
    expect((await api.get('health')).status).toBe(200);
    expect((await api.get('faults')).body.rules).toHaveLength(1);
    expect(sim.journal.entries()).toEqual([]);
  });
});
