// The agent against a fake gateway: secrets to the local data plane (and never into stats or
// reports), resource.resync, observedSpec in every report, the heartbeat timer, and the 410 path.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentOptions, FleetAgent } from './agent.ts';
import { FakeGateway } from './gateway-testing.ts';

let gateway: FakeGateway;
const running: FleetAgent[] = [];
const id = (n: number) => `7c0e9d2a-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function until<T>(what: string, check: () => T, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function startAgent(options: Partial<AgentOptions> = {}): FleetAgent {
  const agent = new FleetAgent({
    url: gateway.url,
    name: `agent-${running.length}`,
    bootstrapToken: 'pwb_test',
    pinnedPublicKeyPems: [gateway.publicKeyPem],
    waitMs: 5_000,
    backoffBaseMs: 10,
    backoffCapMs: 50,
    ...options,
  });
  running.push(agent);
  return agent.start();
}

beforeEach(async () => {
  gateway = await new FakeGateway().start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((agent) => agent.stop()));
  await gateway.close();
});

describe('FleetAgent with secrets', () => {
  it('opens secrets from the snapshot and from events; values stay out of stats and reports', async () => {
    gateway.put(id(1), { engine: 'postgres' }, { secretRef: 'db-password' });
    gateway.setSecret(id(1), 'db-password', 'hunter2-from-snapshot');
    const agent = startAgent();
    const held = await until('the snapshot secret', () => agent.get(id(1))?.secrets?.['db-password']);
    expect(held).toMatchObject({ name: 'db-password', version: 1 });
    expect(held.value).toBe('hunter2-from-snapshot');
    expect(gateway.registrations[0]!.encryptionKey).toMatchObject({ kty: 'OKP', crv: 'X25519' });
    expect(agent.identity?.encryptionKey?.d).toEqual(expect.any(String));

    // a rotation arrives as a resync at the same generation
    gateway.setSecret(id(1), 'db-password', 'hunter2-rotated');
    gateway.resync(id(1));
    await until('the rotated secret', () => agent.get(id(1))?.secrets?.['db-password']?.version === 2);
    expect(agent.get(id(1))!.secrets!['db-password']!.value).toBe('hunter2-rotated');
    expect(agent.get(id(1))!.generation).toBe(1);
    await until('a report', () => gateway.reports.length >= 2);
    expect(JSON.stringify([agent.status, gateway.reports, agent.get(id(1))])).not.toContain('hunter2');
  });

  it('a restarted agent on saved credentials still decrypts', async () => {
    const first = startAgent();
    await until('registration', () => first.identity);
    await first.stop();
    gateway.put(id(2), { engine: 'postgres' }, { secretRef: 'api-key' });
    gateway.setSecret(id(2), 'api-key', 'sk_after_restart');
    const credentials = JSON.parse(JSON.stringify(first.identity));
    const again = startAgent({ bootstrapToken: undefined, credentials });
    await until('the secret after restart', () => again.get(id(2))?.secrets?.['api-key']);
    expect(again.get(id(2))!.secrets!['api-key']!.value).toBe('sk_after_restart');
    expect(gateway.registrations).toHaveLength(1);
  });

  it('refuses a bad secret: counted, not applied, reported as an internal error', async () => {
    const agent = startAgent();
    await until('in sync', () => agent.status.state === 'inSync');
    gateway.tamper = (sealed) => ({ ...sealed, agentId: 'someone-else' });
    gateway.put(id(3), { engine: 'postgres' }, { secretRef: 'db-password' });
    gateway.setSecret(id(3), 'db-password', 'never-held');
    // the event is served after setSecret: the long-poll wakes on put, so re-send it
    gateway.resync(id(3));
    await until('the rejection', () => agent.status.rejected.bad_secret);
    expect(agent.get(id(3))).toBeUndefined();
    const report = await until('the error report', () => gateway.reports.find((r) => r.resourceId === id(3)));
    expect(report).toMatchObject({ observedGeneration: 1, error: { class: 'internal' } });
    expect(report.error!.message).toContain('bad_secret');
    // the cursor moved on: the agent does not loop on a genuine event it cannot use
    await until('in sync', () => agent.status.appliedSequence === gateway.sequence);
    expect(JSON.stringify(agent.status)).not.toContain('never-held');
  });

  it('an agent registered without a key gets no secrets and refuses none', async () => {
    const agent = startAgent({ secrets: false });
    gateway.put(id(4), { engine: 'postgres' });
    await until('the resource', () => agent.get(id(4)));
    expect(gateway.registrations[0]!.encryptionKey).toBeUndefined();
    expect(agent.identity?.encryptionKey).toBeUndefined();
  });
});

describe('FleetAgent reports and resync', () => {
  it('sends observedSpec in every live report and re-applies a resync at the same generation', async () => {
    gateway.put(id(5), { size: 1 });
    const agent = startAgent();
    await until('applied', () => agent.get(id(5)));
    const first = await until('a report', () => gateway.reports.find((r) => r.resourceId === id(5)));
    expect(first).toEqual({
      resourceId: id(5),
      observedGeneration: 1,
      status: { ready: true, phase: 'active' },
      observedSpec: { size: 1 },
    });
    const appliedAt = agent.get(id(5))!.appliedAt;
    const reports = gateway.reports.length;
    await new Promise((resolve) => setTimeout(resolve, 5));
    gateway.resync(id(5));
    await until('the resync applied', () => agent.get(id(5))!.appliedAt > appliedAt);
    await until('its report', () => gateway.reports.length > reports);
    expect(agent.status.rejected).toEqual({});

    gateway.remove(id(5));
    const gone = await until('the deletion report', () => gateway.reports.find((r) => r.deleted));
    expect(gone).toEqual({ resourceId: id(5), observedGeneration: 1, status: {}, deleted: true });
  });

  it('heartbeats on its own timer while a long-poll waits', async () => {
    const agent = startAgent({ heartbeatMs: 40, waitMs: 5_000 });
    await until('in sync', () => agent.status.state === 'inSync');
    await until('three heartbeats', () => gateway.heartbeats.length >= 3);
    expect(gateway.openPolls).toBe(1);
    expect(gateway.heartbeats.every((sequence) => sequence === agent.status.appliedSequence)).toBe(true);
  });

  it('follows a 410 to the snapshot and catches up', async () => {
    const agent = startAgent({ waitMs: 50 });
    await until('in sync', () => agent.status.state === 'inSync');
    gateway.fail('/v1/agent/events', 410, { code: 'snapshot_required' });
    gateway.put(id(6), { size: 6 });
    await until('applied', () => agent.get(id(6)));
    expect(agent.status.hydrations).toBeGreaterThanOrEqual(2);
    expect(agent.status.errors).toBe(0);
  });

  it('honours Retry-After on a 429 and counts it by kind', async () => {
    gateway.fail('/v1/agent/snapshot', 429, { code: 'rate_limited', retryAfterSeconds: 0.2 });
    const started = Date.now();
    const agent = startAgent();
    await until('in sync', () => agent.status.state === 'inSync');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(agent.status.errorsByKind).toEqual({ 'http:429': 1 });
  });
});

describe('FleetAgent and signed snapshots', () => {
  it('refuses a forged or unsigned snapshot and applies nothing of it', async () => {
    gateway.put(id(7), { size: 7 });
    gateway.snapshotKey = generateKeyPairSync('ed25519').privateKey;
    const forged = startAgent();
    await until('the refusal', () => (forged.status.rejected.bad_snapshot ?? 0) >= 2);
    expect(forged.status).toMatchObject({ state: 'backingOff', resources: 0 });
    expect(forged.status.errorsByKind.bad_snapshot).toBeGreaterThanOrEqual(2);

    gateway.snapshotKey = gateway.signingKey;
    gateway.unsignedSnapshots = true;
    const unsigned = startAgent();
    await until('the refusal', () => unsigned.status.rejected.bad_snapshot);
    expect(unsigned.get(id(7))).toBeUndefined();
    // an older control plane, explicitly trusted
    const lenient = startAgent({ requireSignedSnapshots: false });
    await until('applied', () => lenient.get(id(7)));

    gateway.unsignedSnapshots = false;
    await until('the forged one recovers', () => forged.get(id(7)));
  });
});
