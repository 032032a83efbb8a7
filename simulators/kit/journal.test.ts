// The journal: one seed gives one journal, concurrency does not change a request's decision, and
// replay puts the recorded faults back on the same requests whatever the order and timing.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, startExample } from './example/testing.ts';
import {
  decisionsByFingerprint,
  decisionsOf,
  type FaultRuleInput,
  type JournalEntry,
  Simulator,
  type StartedSimulator,
} from './index.ts';

const rules: FaultRuleInput[] = [
  {
    id: 'slow',
    match: { method: 'GET' },
    fault: { kind: 'latency', uniform: { minMs: 0, maxMs: 5 } },
    probability: 0.5,
  },
  { id: 'flaky', match: { path: '/v1/charges' }, fault: { kind: 'error', status: 500 }, probability: 0.3 },
  { id: 'throttled', match: { path: '/v1/ping' }, fault: { kind: 'throttle' }, probability: 0.25 },
];

interface Step {
  path: string;
  init?: { method: string; json: unknown; headers?: Record<string, string> };
}

/** 40 requests: repeated identical GETs, bodies that differ, and idempotency keys. */
const steps: Step[] = Array.from({ length: 40 }, (_, i): Step => {
  if (i % 4 === 0) return { path: '/v1/ping' };
  if (i % 4 === 1) return { path: `/v1/charges/ch_${i % 3}` };
  if (i % 4 === 2) return { path: '/v1/charges', init: { method: 'POST', json: { amount: (i % 5) + 1 } } };
  return {
    path: '/v1/charges',
    init: { method: 'POST', json: { amount: 9 }, headers: { 'idempotency-key': `key-${i % 6}` } },
  };
});

const started: StartedSimulator[] = [];
async function example(seed: number, faults?: FaultRuleInput[]) {
  const sim = await startExample({ seed, ...(faults ? { faults } : {}) });
  started.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});

async function send(url: string, step: Step) {
  return (await call(url, step.path, step.init ?? {})).status;
}

async function runSequence(seed: number) {
  const sim = await example(seed, rules);
  const statuses = [];
  for (const step of steps) statuses.push(await send(sim.url, step));
  return { sim, statuses, journal: sim.journal.toJSON() };
}

function shuffled<T>(items: T[]): T[] {
  // a fixed permutation (not Math.random): the test must not depend on luck either
  return items
    .map((item, index) => [(index * 17) % items.length, item] as const)
    .sort(([a], [b]) => a - b)
    .map(([, item]) => item);
}

describe('journal', () => {
  it('the same seed and requests give the same journal; another seed gives another', async () => {
    const first = await runSequence(42);
    const second = await runSequence(42);
    const other = await runSequence(43);
    expect(first.journal.entries.length).toBeGreaterThan(20);
    expect(first.journal.entries.some((entry) => entry.fault === null)).toBe(true);
    expect(new Set(first.journal.entries.map((entry) => entry.fault?.kind ?? 'none'))).toEqual(
      new Set(['latency', 'error', 'throttle', 'none']),
    );
    expect(decisionsOf(second.journal.entries)).toEqual(decisionsOf(first.journal.entries));
    expect(second.statuses).toEqual(first.statuses);
    expect(decisionsOf(other.journal.entries)).not.toEqual(decisionsOf(first.journal.entries));
    expect(first.journal).toMatchObject({ simulator: 'example', seed: 42, dropped: 0 });
  });

  it('concurrency does not change the decision a request gets', async () => {
    const sequential = await runSequence(42);
    const sim = await example(42, rules);
    await Promise.all(steps.map((step) => send(sim.url, step)));
    expect(decisionsByFingerprint(sim.journal.entries())).toEqual(
      decisionsByFingerprint(sequential.journal.entries),
    );
  });

  it('entries carry request id, time and trace; ?since= and the limit bound what is returned', async () => {
    const sim = await example(1);
    sim.faults.add({ fault: { kind: 'error', status: 500 } });
    for (let i = 0; i < 3; i++) await call(sim.url, '/v1/ping');
    const all = (await admin(sim.url).get('journal')).body;
    expect(all.entries[0]).toMatchObject({
      seq: 1,
      fingerprint: { method: 'GET', path: '/v1/ping', key: '', occurrence: 1 },
      rule: 'rule_1',
      fault: { kind: 'error', status: 500 },
      meta: { at: '2030-01-01T00:00:00.000Z', requestId: expect.stringMatching(/^req_/) },
    });
    expect(all.entries.map((entry: JournalEntry) => entry.fingerprint.occurrence)).toEqual([1, 2, 3]);
    expect(
      (await admin(sim.url).get('journal?since=2')).body.entries.map((entry: JournalEntry) => entry.seq),
    ).toEqual([3]);

    const state = { snapshot: () => ({}), reset() {} };
    const limited = await new Simulator({ name: 'limited', state, journalLimit: 2 })
      .withFaults([{ fault: { kind: 'error', status: 500 } }])
      .start();
    started.push(limited);
    for (let i = 0; i < 5; i++) await call(limited.url, '/anything');
    expect(limited.journal.toJSON()).toMatchObject({ dropped: 3, nextSeq: 5 });
    expect(limited.journal.entries().map((entry) => entry.seq)).toEqual([4, 5]);
  });
});

describe('decisionsByFingerprint', () => {
  it('orders decisions by fingerprint and occurrence, so arrival order does not matter', () => {
    const entry = (path: string, occurrence: number, seq: number): JournalEntry => ({
      seq,
      fingerprint: { method: 'GET', path, key: '', occurrence },
      rule: null,
      fault: null,
      meta: { at: `t${seq}` },
    });
    const arrived = [entry('/b', 10, 1), entry('/a', 1, 2), entry('/b', 2, 3), entry('/b', 1, 4)];
    const otherOrder = [entry('/b', 1, 5), entry('/b', 2, 6), entry('/a', 1, 7), entry('/b', 10, 8)];
    expect(decisionsByFingerprint(arrived)).toEqual(decisionsByFingerprint(otherOrder));
    expect(decisionsOf(arrived)).not.toEqual(decisionsOf(otherOrder));
    expect(
      decisionsByFingerprint(arrived).map(
        ({ fingerprint }) => `${fingerprint.path}#${fingerprint.occurrence}`,
      ),
    ).toEqual(['/a#1', '/b#1', '/b#2', '/b#10']);
    // the entries given are left as they were
    expect(arrived.map((each) => each.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('replay', () => {
  it('puts the recorded faults on the same requests, in any order and timing, with no rules and another seed', async () => {
    const original = await runSequence(42);
    const replaying = await example(999);
    const loaded = await admin(replaying.url).post('replay', original.journal);
    expect(loaded.body).toMatchObject({
      mode: 'replay',
      recorded: original.journal.entries.length,
      matched: 0,
    });

    // the same requests, reordered and with pauses, several at a time
    const order = shuffled(steps.map((step, index) => ({ step, index })));
    const statuses = new Array<number>(steps.length);
    for (let i = 0; i < order.length; i += 5) {
      await Promise.all(
        order.slice(i, i + 5).map(async ({ step, index }, k) => {
          await sleep(k);
          statuses[index] = await send(replaying.url, step);
        }),
      );
    }
    expect(decisionsByFingerprint(replaying.journal.entries())).toEqual(
      decisionsByFingerprint(original.journal.entries),
    );
    expect(replaying.journal.entries().every((entry) => entry.meta.replayed)).toBe(true);
    // the injected answers (500, 429) reach the same kinds of request; 200 or 404 depends on the
    // simulator's state, which the new order changes (a charge read before it was created)
    const injected = (list: number[]) =>
      steps
        .map((step, index) => `${step.path} ${JSON.stringify(step.init ?? null)} ${list[index]}`)
        .filter((_line, index) => list[index]! === 500 || list[index]! === 429)
        .sort();
    expect(injected(statuses)).toEqual(injected(original.statuses));
    expect(injected(statuses).length).toBeGreaterThan(3);
    expect((await admin(replaying.url).get('replay')).body).toMatchObject({
      mode: 'replay',
      matched: original.journal.entries.length,
      unmatched: [],
      unmatchedWithoutFault: 0,
    });
  });

  it('reports recorded faults that no request claimed', async () => {
    const original = await runSequence(42);
    const replaying = await example(7);
    replaying.faults.replay(original.journal.entries);
    // only the GETs come back this time
    for (const step of steps.filter((each) => !each.init)) await send(replaying.url, step);
    const report = replaying.faults.replayReport()!;
    const missedFaults = original.journal.entries.filter(
      (entry) => entry.fingerprint.method === 'POST' && entry.fault,
    );
    expect(missedFaults.length).toBeGreaterThan(0);
    expect(report.unmatched).toEqual(expect.arrayContaining(missedFaults));
    expect(report.unmatched).toHaveLength(missedFaults.length);
    expect(report.matched + report.unmatched.length + report.unmatchedWithoutFault).toBe(report.recorded);

    const stopped = await admin(replaying.url).delete('replay');
    expect(stopped.body).toMatchObject({ mode: 'rules', unmatched: expect.any(Array) });
    expect((await admin(replaying.url).get('health')).body.mode).toBe('rules');
  });

  it('refuses a decision that could not have been recorded, naming the entry and the problem', async () => {
    const sim = await example(1);
    const fingerprint = (occurrence: number) => ({ method: 'GET', path: '/v1/ping', key: '', occurrence });
    const good = { seq: 1, fingerprint: fingerprint(1), rule: 'r', fault: { kind: 'reset' }, meta: {} };
    const cases: [unknown, RegExp][] = [
      [{ kind: 'bogus' }, /fault\.kind: kind must be one of latency, error, throttle, reset, hang, outage/],
      [{ kind: 'hang', maxMs: 1e12 }, /fault\.maxMs: .*600000/],
      [{ kind: 'hang', maxMs: 0 }, /fault\.maxMs/],
      [{ kind: 'error', status: 99 }, /fault\.status: .*400/],
      [{ kind: 'error', status: 600 }, /fault\.status: .*599/],
      [{ kind: 'outage', status: 404, retryAfterS: 1 }, /fault\.status: .*500/],
      [{ kind: 'latency', ms: 'soon' }, /fault\.ms/],
      [{ kind: 'latency', ms: -1 }, /fault\.ms/],
      [{ kind: 'latency', ms: 1e9 }, /fault\.ms: .*600000/],
      [{ kind: 'throttle' }, /fault\.retryAfterS/],
      [{ kind: 'reset', extra: 1 }, /fault: .*extra/],
    ];
    for (const [fault, problem] of cases) {
      const answer = await admin(sim.url).post('replay', {
        entries: [good, { seq: 2, fingerprint: fingerprint(2), rule: 'r', fault, meta: {} }],
      });
      expect(answer.status, JSON.stringify(fault)).toBe(400);
      expect(answer.body.error.code).toBe('PW_SIM_BAD_JOURNAL');
      expect(answer.body.error.message, JSON.stringify(fault)).toMatch(/entry \[1\] is not a journal entry/);
      expect(answer.body.error.message, JSON.stringify(fault)).toMatch(problem);
    }
    // nothing was loaded: the simulator still decides by its rules, and answers
    expect((await admin(sim.url).get('health')).body.mode).toBe('rules');
    expect((await call(sim.url, '/v1/ping')).status).toBe(200);
    // the same entries with sound decisions load
    const loaded = await admin(sim.url).post('replay', {
      entries: [
        good,
        { seq: 2, fingerprint: fingerprint(2), rule: 'r', fault: { kind: 'hang', maxMs: 600_000 } },
      ],
    });
    expect(loaded.body).toMatchObject({ mode: 'replay', recorded: 2 });
  });

  it('a decision of an unknown kind is still answered, never left hanging', async () => {
    const sim = await example(1);
    // what no rule and no validated journal can produce, forced past both
    sim.faults.decide = () => ({ rule: 'forced', fault: { kind: 'bogus' } as never });
    const answer = await call(sim.url, '/v1/ping', { signal: AbortSignal.timeout(5_000) });
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).toMatch(/unknown fault kind \\"bogus\\"/);
  });

  it('refuses a journal that is not one', async () => {
    const sim = await example(1);
    const answer = await admin(sim.url).post('replay', { entries: [{ rule: 'x' }] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'PW_SIM_BAD_JOURNAL',
      message: expect.stringMatching(/entry \[0\]/),
    });
    expect((await admin(sim.url).post('replay', 'nope')).status).toBe(400);
  });
});
