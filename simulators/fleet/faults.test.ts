// Each agent fault against a fake gateway: crash and restart, hang, slow apply, apply errors of
// both classes, drift, partition; and the journal they leave.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentOptions, FleetAgent } from './agent.ts';
import type { FaultJournalEntry } from './faults.ts';
import { FakeGateway } from './gateway-testing.ts';

let gateway: FakeGateway;
const running: FleetAgent[] = [];
const id = (n: number) => `9e4b1c3d-0000-4000-8000-${String(n).padStart(12, '0')}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, check: () => T, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(10);
  }
}

async function startAgent(options: Partial<AgentOptions> = {}): Promise<FleetAgent> {
  const agent = new FleetAgent({
    url: gateway.url,
    name: `agent-${running.length}`,
    bootstrapToken: 'pwb_test',
    pinnedPublicKeyPems: [gateway.publicKeyPem],
    waitMs: 5_000,
    heartbeatMs: 50,
    backoffBaseMs: 10,
    backoffCapMs: 40,
    ...options,
  });
  running.push(agent.start());
  await until(
    'in sync',
    () => agent.status.state === 'inSync' && agent.status.appliedSequence === gateway.sequence,
  );
  return agent;
}

const reportsOf = (resourceId: string) =>
  gateway.reports.filter((report) => report.resourceId === resourceId);

beforeEach(async () => {
  gateway = await new FakeGateway().start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()));
  await gateway.close();
});

describe('crash', () => {
  it('drops the process, keeps the data plane, restarts on its credentials with If-None-Match', async () => {
    gateway.put(id(1), { size: 1 });
    const journal: FaultJournalEntry[] = [];
    const agent = await startAgent({ journal });
    await until('the long-poll', () => gateway.openPolls === 1);
    const reportsBefore = reportsOf(id(1)).length;

    const crash = agent.inject({ kind: 'crash', restartAfterMs: 150 });
    expect(agent.status).toMatchObject({ state: 'crashed', crashed: true, connected: false });
    await until('the dropped long-poll', () => gateway.openPolls === 0);
    expect(agent.get(id(1))).toMatchObject({ generation: 1 });
    const heartbeats = gateway.heartbeats.length;
    await pause(100);
    expect(gateway.heartbeats.length).toBe(heartbeats);

    await until('the restart', () => agent.status.restarts === 1 && agent.status.state === 'inSync');
    expect(crash.active).toBe(false);
    expect(gateway.registrations).toHaveLength(1);
    expect(gateway.notModified).toBe(1);
    // the restarted process tells the control plane what it runs, though the snapshot was a 304
    await until('the announcement', () => reportsOf(id(1)).length > reportsBefore);
    gateway.put(id(1), { size: 2 });
    await until('the next generation', () => agent.get(id(1))?.generation === 2);
    expect(journal.map((entry) => [entry.agent, entry.action, entry.fault.kind])).toEqual([
      ['agent-0', 'inject', 'crash'],
      ['agent-0', 'end', 'crash'],
    ]);
  });

  it('stays down until cleared when no restart time is given; unsent reports are lost with it', async () => {
    const agent = await startAgent();
    gateway.fail('/v1/agent/status', 503, { times: 1_000 });
    gateway.put(id(2), { size: 1 });
    await until('applied', () => agent.get(id(2)));
    const crash = agent.inject({ kind: 'crash' });
    gateway.clearFailures();
    // the status route works again, but the report died with the process
    await pause(150);
    expect(agent.status.state).toBe('crashed');
    expect(reportsOf(id(2))).toEqual([]);
    crash.clear();
    await until('the restart', () => agent.status.restarts === 1);
    // the new process announces what its data plane runs
    await until('the announcement', () => reportsOf(id(2)).length === 1);
  });
});

describe('hang', () => {
  it('makes no request and reads no answer while hung, then carries on', async () => {
    gateway.put(id(3), { size: 1 });
    const agent = await startAgent();
    await until('the long-poll', () => gateway.openPolls === 1);
    const hang = agent.inject({ kind: 'hang', durationMs: 400 });
    expect(agent.status.hung).toBe(true);
    // a request that left just before the hang may still be on its way in
    await pause(50);
    const requests = gateway.requests.length;
    gateway.put(id(3), { size: 2 });
    await pause(200);
    // the long-poll was answered, but the hung agent has not read it; nor has it heartbeated
    expect(agent.get(id(3))?.generation).toBe(1);
    expect(gateway.requests.length).toBe(requests);
    await until('the hang to end', () => !hang.active);
    await until('the change', () => agent.get(id(3))?.generation === 2);
    expect(agent.status.hung).toBe(false);
  });
});

describe('slow apply', () => {
  it('takes the injected apply time', async () => {
    const agent = await startAgent({ applyMs: 0 });
    const slow = agent.inject({ kind: 'slowApply', applyMs: 250 });
    const started = Date.now();
    gateway.put(id(4), { size: 1 });
    await until('applied', () => agent.get(id(4)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    slow.clear();
    const quick = Date.now();
    gateway.put(id(4), { size: 2 });
    await until('applied again', () => agent.get(id(4))?.generation === 2);
    expect(Date.now() - quick).toBeLessThan(200);
  });
});

describe('apply errors', () => {
  it('reports a customer error once with its hint; the previous state keeps running', async () => {
    gateway.put(id(5), { size: 1 });
    const agent = await startAgent();
    agent.inject({
      kind: 'applyError',
      class: 'customer',
      message: 'size too large',
      hint: 'use ≤ 100',
      times: 1,
    });
    gateway.put(id(5), { size: 1_000 });
    const failed = await until('the error report', () => reportsOf(id(5)).find((report) => report.error));
    expect(failed).toEqual({
      resourceId: id(5),
      observedGeneration: 2,
      status: { ready: false, phase: 'active' },
      observedSpec: { size: 1 },
      error: { class: 'customer', message: 'size too large', hint: 'use ≤ 100' },
    });
    expect(agent.get(id(5))).toMatchObject({ generation: 1, spec: { size: 1 } });
    expect(agent.status.applyErrors).toEqual({ customer: 1 });
    // the agent does not retry on its own; a fixed spec (a new generation) goes through
    gateway.put(id(5), { size: 50 });
    await until('the fix', () => agent.get(id(5))?.generation === 3);
  });

  it('fails matching resources with an internal error until cleared; a resync then applies', async () => {
    const agent = await startAgent();
    const fault = agent.inject({
      kind: 'applyError',
      class: 'internal',
      message: 'disk full',
      match: (resourceId) => resourceId === id(6),
    });
    gateway.put(id(6), { size: 1 });
    gateway.put(id(7), { size: 1 });
    await until('the other resource', () => agent.get(id(7)));
    await until('the error', () => reportsOf(id(6)).some((report) => report.error?.class === 'internal'));
    gateway.resync(id(6));
    await until('a second error', () => reportsOf(id(6)).filter((report) => report.error).length === 2);
    expect(agent.get(id(6))).toBeUndefined();
    fault.clear();
    gateway.resync(id(6));
    await until('applied after the resync', () => agent.get(id(6))?.generation === 1);
    expect(reportsOf(id(6)).at(-1)).toMatchObject({ observedGeneration: 1, observedSpec: { size: 1 } });
    expect(reportsOf(id(6)).at(-1)?.error).toBeUndefined();
  });
});

describe('drift', () => {
  it('changes the running spec by hand and reports it at once; a resync restores it', async () => {
    gateway.put(id(8), { size: 1 });
    const agent = await startAgent({ heartbeatMs: 60_000 });
    await until('the long-poll', () => gateway.openPolls === 1);
    const started = Date.now();
    agent.inject({ kind: 'drift', patch: { size: 9 } });
    const drifted = await until('the drift report', () =>
      reportsOf(id(8)).find((report) => report.observedSpec?.size === 9),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(drifted.observedGeneration).toBe(1);
    expect(agent.get(id(8))).toMatchObject({
      generation: 1,
      spec: { size: 9 },
      desired: { spec: { size: 1 } },
    });
    gateway.resync(id(8));
    await until('restored', () => agent.get(id(8))?.spec.size === 1);
    await until('reported restored', () => reportsOf(id(8)).at(-1)?.observedSpec?.size === 1);
  });
});

describe('partition', () => {
  it('fails every request fast, keeps serving, and catches up through the snapshot after a 410', async () => {
    gateway.put(id(9), { size: 1 });
    const agent = await startAgent();
    await until('the long-poll', () => gateway.openPolls === 1);
    const partition = agent.inject({ kind: 'partition', durationMs: 400 });
    await until('the cut long-poll', () => gateway.openPolls === 0);
    await pause(50);
    const requests = gateway.requests.length;
    gateway.put(id(9), { size: 2 });
    gateway.prunedThrough = gateway.sequence; // the agent's cursor is gone by the time it is back
    await pause(150);
    expect(gateway.requests.length).toBe(requests);
    expect(agent.status).toMatchObject({ partitioned: true, connected: false, state: 'backingOff' });
    expect(agent.status.errorsByKind['network:PW_FLEET_PARTITIONED']).toBeGreaterThan(0);
    expect(agent.get(id(9))?.generation).toBe(1);
    const hydrations = agent.status.hydrations;
    await until('the partition to end', () => !partition.active);
    await until('caught up', () => agent.get(id(9))?.generation === 2);
    expect(agent.status.hydrations).toBeGreaterThan(hydrations);
    expect(agent.status).toMatchObject({ partitioned: false, connected: true });
  });
});

describe('fault validation', () => {
  it('refuses a fault it cannot run, with a code', async () => {
    const agent = new FleetAgent({ url: 'http://127.0.0.1:9', bootstrapToken: 'x' });
    expect(() => agent.inject({ kind: 'hang', durationMs: -1 })).toThrow(/PW_FLEET_BAD_FAULT/);
    expect(() => agent.inject({ kind: 'applyError', class: 'other' as 'internal', message: 'x' })).toThrow(
      /PW_FLEET_BAD_FAULT/,
    );
  });
});
