// The runner against a fake gateway: counters and waitFor, seeded fault injection into a share of
// the fleet with its journal, a staggered start, and credentials persisted across fleet processes.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGateway } from './gateway-testing.ts';
import { type Fleet, type FleetOptions, startFleet } from './runner.ts';

let gateway: FakeGateway;
let directory: string;
const fleets: Fleet[] = [];

async function fleetOf(agentsPerCell: number, options: Partial<FleetOptions> = {}): Promise<Fleet> {
  const fleet = await startFleet({
    url: gateway.url,
    cells: ['cell-1'],
    agentsPerCell,
    seed: 11,
    bootstrapToken: async (cell, index) => `pwb_${cell}_${index}`,
    agent: {
      pinnedPublicKeyPems: [gateway.publicKeyPem],
      waitMs: 2_000,
      heartbeatMs: 100,
      backoffBaseMs: 10,
      backoffCapMs: 50,
    },
    ...options,
  });
  fleets.push(fleet);
  return fleet;
}

beforeEach(async () => {
  gateway = await new FakeGateway().start();
  directory = await mkdtemp(path.join(tmpdir(), 'pw-fleet-'));
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()));
  await gateway.close();
  await rm(directory, { recursive: true, force: true });
});

describe('startFleet', () => {
  it('counts the fleet, injects a seeded share, journals it, and counts faults and errors by kind', async () => {
    gateway.put('1f2e3d4c-0000-4000-8000-000000000001', { size: 1 });
    const fleet = await fleetOf(10);
    const synced = await fleet.waitFor((counters) => counters.inSync === 10, 5_000);
    expect(synced).toMatchObject({ agents: 10, connected: 10, backingOff: 0, errors: 0, crashed: 0 });

    const partition = fleet.inject({ kind: 'partition' }, { share: 0.3 });
    expect(partition.agents).toHaveLength(3);
    const partitioned = await fleet.waitFor((c) => c.partitioned === 3 && c.backingOff === 3, 5_000);
    expect(partitioned.errorsByKind['network:PW_FLEET_PARTITIONED']).toBeGreaterThan(0);
    const hang = fleet.inject({ kind: 'hang' }, { count: 2, seed: 4 });
    const crash = fleet.inject({ kind: 'crash', restartAfterMs: 100 }, { count: 1 });
    expect(fleet.counters()).toMatchObject({ hung: 2, crashed: 1 });
    partition.clear();
    hang.clear();
    const healed = await fleet.waitFor((c) => c.inSync === 10 && c.restarts === 1, 5_000);
    expect(healed).toMatchObject({ partitioned: 0, hung: 0, crashed: 0 });
    expect(crash.handles[0]!.active).toBe(false);

    expect(
      fleet.journal.filter((entry) => entry.action === 'inject').map((entry) => entry.fault.kind),
    ).toEqual([...Array(3).fill('partition'), 'hang', 'hang', 'crash']);
    expect(fleet.journal.map((entry) => entry.agent)).toEqual(expect.arrayContaining(partition.agents));

    // an apply error of each class, counted by class
    fleet.inject({ kind: 'applyError', class: 'customer', message: 'bad spec', times: 1 }, { count: 4 });
    fleet.inject({ kind: 'applyError', class: 'internal', message: 'disk full', times: 1 }, { count: 10 });
    gateway.put('1f2e3d4c-0000-4000-8000-000000000001', { size: 2 });
    const failed = await fleet.waitFor(
      (c) => (c.applyErrors.customer ?? 0) + (c.applyErrors.internal ?? 0) === 10,
      5_000,
    );
    expect(failed.applyErrors.customer).toBe(4);
  });

  it('chooses the same agents for the same seed, and waitFor names what it waited for', async () => {
    const first = await fleetOf(8, { seed: 3 });
    const second = await fleetOf(8, { seed: 3 });
    const a = first.inject({ kind: 'slowApply', applyMs: 1 }, { share: 0.5 });
    const b = second.inject({ kind: 'slowApply', applyMs: 1 }, { share: 0.5 });
    expect(a.agents).toEqual(b.agents);
    expect(first.inject({ kind: 'slowApply', applyMs: 1 }, { share: 0.5, cells: ['cell-9'] }).agents).toEqual(
      [],
    );
    await expect(first.waitFor((c) => c.agents === 99, 50)).rejects.toThrow(
      /PW_FLEET_WAIT_TIMEOUT.*"agents":8/,
    );
  });

  it('staggers the start so agents do not all register in one tick', async () => {
    const started = Date.now();
    const fleet = await fleetOf(6, { startBatch: 2, startPauseMs: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
    await fleet.waitFor((c) => c.inSync === 6, 5_000);
  });

  it('persists credentials (mode 0600) and a restarted fleet process reuses them', async () => {
    const credentialsFile = path.join(directory, 'fleet-credentials.json');
    const first = await fleetOf(3, { credentialsFile });
    await first.waitFor((c) => c.inSync === 3, 5_000);
    await first.stop();
    const saved = JSON.parse(await readFile(credentialsFile, 'utf8'));
    expect(Object.keys(saved.agents).sort()).toEqual(['cell-1-agent-0', 'cell-1-agent-1', 'cell-1-agent-2']);
    expect(saved.agents['cell-1-agent-0']).toMatchObject({
      cell: 'cell-1',
      encryptionKey: { d: expect.any(String) },
    });
    expect((await stat(credentialsFile)).mode & 0o777).toBe(0o600);
    expect(gateway.registrations).toHaveLength(3);

    const second = await fleetOf(3, {
      credentialsFile,
      bootstrapToken: () => Promise.reject(new Error('a saved agent must not need a bootstrap token')),
    });
    await second.waitFor((c) => c.inSync === 3, 5_000);
    expect(gateway.registrations).toHaveLength(3);
    expect(second.agents.map((agent) => agent.identity?.agentId)).toEqual(
      first.agents.map((agent) => agent.identity?.agentId),
    );
  });

  it('refuses a credentials file it cannot read, with the way out', async () => {
    const credentialsFile = path.join(directory, 'broken.json');
    await writeFile(credentialsFile, '{"version": 7}');
    await expect(fleetOf(1, { credentialsFile })).rejects.toThrow(/PW_FLEET_BAD_CREDENTIALS_FILE.*delete it/);
  });
});
