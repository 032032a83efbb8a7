// The data plane end to end: a real control plane (child process, so it can be SIGKILLed) on a
// real Postgres, and fleet agents speaking the documented gateway protocol. A user's resource in
// cell-1 reaches the cell-1 agent only, verified and applied, and becomes ready from the agent's
// report; the agent keeps serving through a control-plane crash and resyncs after it.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEventSigner,
  migrate,
  type OutboxEvent,
  pinPublicKeys,
  verifySignedEvent,
} from '../control-plane/index.ts';
import {
  type ControlPlaneProcess,
  createEmptyDatabase,
  type DevAuth,
  type StartedPostgres,
  startControlPlaneProcess,
  startDevAuth,
  startPostgres,
} from '../harness/env/index.ts';
import { eventually } from '../harness/fixtures.ts';
import { FleetAgent, pinKeys, startFleet, verifyEvent } from '../simulators/fleet/index.ts';

const adminToken = 'scenario-admin-token-0123456789';
const keys = generateKeyPairSync('ed25519');
const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const databaseSpec = { engine: 'postgres', version: '16', storageGb: 10 };

let postgres: StartedPostgres;
let databaseUrl: string;
let auth: DevAuth;
let cp: ControlPlaneProcess;
const agents: FleetAgent[] = [];

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${cp.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function newAgent(cell: string): Promise<FleetAgent> {
  const minted = await call('POST', `/v1/admin/cells/${cell}/bootstrap-tokens`, adminToken, {});
  expect(minted.status).toBe(201);
  const agent = new FleetAgent({
    url: cp.url,
    name: `${cell}-scenario`,
    bootstrapToken: minted.body.token,
    pinnedPublicKeyPems: [publicKeyPem],
    strategy: 'full-jitter',
    backoffBaseMs: 50,
    backoffCapMs: 500,
    waitMs: 2_000,
    heartbeatMs: 500,
    applyMs: 5,
    seed: 42,
  });
  agents.push(agent);
  return agent.start();
}

beforeAll(async () => {
  postgres = await startPostgres();
  databaseUrl = await createEmptyDatabase(
    postgres,
    `scenario_dataplane_${randomUUID().slice(0, 8).replaceAll('-', '')}`,
  );
  await migrate(databaseUrl);
  auth = await startDevAuth();
  cp = await startControlPlaneProcess({
    env: {
      DATABASE_URL: databaseUrl,
      AUTH_JWKS_URL: auth.jwksUrl,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
      SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
      ADMIN_TOKEN: adminToken,
      // one key shared across restarts, as several control-plane processes must share one
      EVENT_SIGNING_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      TEST_MODE: 'true',
      LOG_LEVEL: 'silent',
      CELLS: 'cell-1:100,cell-2:100',
      FLOW_SWEEP_MS: '200',
      FLOW_RETRY_BASE_MS: '20',
      FLOW_RETRY_MAX_MS: '200',
      AGENT_RATE_LIMIT_BURST: '1000',
      AGENT_RATE_LIMIT_PER_SEC: '1000',
    },
    readyTimeoutMs: 30_000,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await cp?.stop(5_000);
  await auth?.close();
  await postgres?.stop();
}, 60_000);

describe('the data plane with a fleet', () => {
  it('applies a cell-1 resource in cell-1 only, survives a control-plane crash and resyncs', async () => {
    const user = await auth.sign({
      sub: `auth0|scenario-${randomUUID()}`,
      email: 'owner@example.test',
      name: 'owner',
    });
    const org = await call('POST', '/v1/orgs', user, {
      name: 'scenario',
      slug: `scenario-${randomUUID().slice(0, 8)}`,
    });
    expect(org.status).toBe(201);
    const orgId = org.body.id as string;
    const cell1 = await newAgent('cell-1');
    const cell2 = await newAgent('cell-2');

    const created = await call('POST', `/v1/orgs/${orgId}/resources`, user, {
      kind: 'database',
      name: 'orders',
      spec: databaseSpec,
      cell: 'cell-1',
    });
    expect(created.status).toBeLessThan(300);
    const id = created.body.resource.id as string;

    const applied = await eventually('the cell-1 agent to apply the resource', () => cell1.get(id));
    expect(applied).toMatchObject({
      generation: 1,
      desired: { name: 'orders', spec: databaseSpec, cell: 'cell-1' },
    });
    await eventually('the resource to become ready from the agent report', async () => {
      const resource = await call('GET', `/v1/orgs/${orgId}/resources/${id}`, user);
      return resource.body.phase === 'ready' && resource.body.observedGeneration === 1;
    });
    await eventually('the cell-2 agent to be in sync', () => cell2.status.state === 'inSync');
    expect(cell2.get(id)).toBeUndefined();
    expect(cell1.status.rejected).toEqual({});

    // crash: the agent keeps serving its local copy while the control plane is gone
    await cp.kill('SIGKILL');
    await eventually('the agent to notice and back off', () => cell1.status.errors > 0, 10_000);
    expect(cell1.get(id)).toMatchObject({ generation: 1 });
    expect(cell1.status.state).toBe('backingOff');

    await cp.restart();
    const changed = await call('PATCH', `/v1/orgs/${orgId}/resources/${id}`, user, {
      spec: { ...databaseSpec, storageGb: 20 },
    });
    expect(changed.status).toBeLessThan(300);
    await eventually('the agent to resync generation 2', () => cell1.get(id)?.generation === 2, 20_000);
    expect(cell1.get(id)?.desired.spec).toEqual({ ...databaseSpec, storageGb: 20 });
    await eventually('generation 2 to be observed', async () => {
      const resource = await call('GET', `/v1/orgs/${orgId}/resources/${id}`, user);
      return resource.body.observedGeneration === 2;
    });
    expect(cell2.get(id)).toBeUndefined();
  }, 90_000);

  it('rejects tampered, foreign-key, replayed and out-of-order events from the real gateway', async () => {
    const agent = agents[0]!;
    const credentials = agent.identity!;
    const page = await call('GET', '/v1/agent/events?after=0&limit=10', credentials.token);
    expect(page.status).toBe(200);
    const [first] = page.body.events as { event: Record<string, any>; signature: string; kid: string }[];
    expect(first).toBeDefined();
    const pinned = pinKeys([publicKeyPem]);
    expect(first!.event.epoch).toBe(page.body.epoch);
    const context = {
      cell: 'cell-1',
      epoch: page.body.epoch as string,
      lastAppliedSequence: first!.event.sequence - 1,
      generationOf: () => undefined,
    };
    expect(verifyEvent(first, pinned, context)).toMatchObject({ ok: true });

    const tampered = structuredClone(first!);
    tampered.event.desired.spec.storageGb = 9_999;
    expect(verifyEvent(tampered, pinned, context)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyEvent({ event: first!.event }, pinned, context)).toEqual({ ok: false, reason: 'unsigned' });
    const otherKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    expect(verifyEvent(first, pinKeys([otherKey]), context)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyEvent(first, pinned, { ...context, lastAppliedSequence: first!.event.sequence })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    expect(
      verifyEvent(first, pinned, { ...context, lastAppliedSequence: first!.event.sequence - 2 }),
    ).toEqual({
      ok: false,
      reason: 'gap',
    });
    expect(verifyEvent(first, pinned, { ...context, cell: 'cell-2' })).toEqual({
      ok: false,
      reason: 'wrong_cell',
    });
    // after a restore the sequences restart under the same key: a genuine event of the old history
    // at exactly the next sequence is refused by both verifiers, since the epoch is signed
    const oldHistory = createEventSigner(keys.privateKey).signEvent({
      ...(first!.event as OutboxEvent),
      epoch: 'a1b2c3d4',
    });
    expect(verifyEvent(oldHistory, pinned, context)).toEqual({ ok: false, reason: 'wrong_epoch' });
    expect(
      verifySignedEvent(oldHistory, pinPublicKeys([publicKeyPem]), {
        cell: 'cell-1',
        epoch: context.epoch,
        lastAppliedSequence: context.lastAppliedSequence,
        requireNext: true,
      }).outcome,
    ).toBe('wrong_epoch');
    expect(verifySignedEvent(first, pinPublicKeys([publicKeyPem]), { epoch: context.epoch }).outcome).toBe(
      'ok',
    );
  });

  it('follows a rebuilt cell history: re-hydrates under the new epoch and restarts its cursor', async () => {
    const agent = agents[0]!;
    const credentials = agent.identity!;
    await eventually('the cell-1 agent to be in sync', () => agent.status.state === 'inSync');
    const before = await call('GET', '/v1/agent/events?after=0&limit=10', credentials.token);
    const [oldEvent] = before.body.events as { event: Record<string, any> }[];
    expect(agent.status.appliedSequence).toBeGreaterThan(0);
    const held = agent.status.resources;

    // what a restore from an older backup or a rebuild leaves: the cell's counter is recreated under
    // a new epoch and its sequences restart, while the signing key stays the same
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // in one transaction, so the agent sees the old history or the new one, never a half-way state
      await client.query('BEGIN');
      await client.query(`DELETE FROM outbox_events WHERE cell_id = 'cell-1'`);
      await client.query(`DELETE FROM outbox_cells WHERE cell_id = 'cell-1'`);
      // the restored data changes again: the cell's new history begins at sequence 1
      await client.query(
        `UPDATE resources SET generation = generation + 1, spec = spec || '{"restored": true}' WHERE cell_id = 'cell-1'`,
      );
      await client.query('COMMIT');
      const { rows } = await client.query(
        `SELECT epoch, last_sequence FROM outbox_cells WHERE cell_id = 'cell-1'`,
      );
      expect(rows[0].epoch).not.toBe(oldEvent!.event.epoch);
    } finally {
      await client.end();
    }

    const after = await call('GET', '/v1/agent/snapshot', credentials.token);
    expect(after.body.epoch).not.toBe(oldEvent!.event.epoch);
    // its cursor was past the new history's latest sequence: it re-hydrates, and moves its cursor back
    await eventually(
      'the agent to re-hydrate under the new epoch',
      () => agent.status.epochChanges === 1 && agent.status.appliedSequence === after.body.sequence,
      20_000,
    );
    expect(agent.status).toMatchObject({ resources: held, rejected: {} });
    const [restored] = after.body.resources as { resourceId: string; desired: { generation: number } }[];
    expect(agent.get(restored!.resourceId)?.generation).toBe(restored!.desired.generation);
    // a genuine event of the old history, re-sent at the agent's next sequence, is refused
    const replayed = createEventSigner(keys.privateKey).signEvent({
      ...(oldEvent!.event as OutboxEvent),
      sequence: after.body.sequence + 1,
    });
    expect(
      verifyEvent(replayed, pinKeys([publicKeyPem]), {
        cell: 'cell-1',
        epoch: after.body.epoch,
        lastAppliedSequence: after.body.sequence,
        generationOf: () => undefined,
      }),
    ).toEqual({ ok: false, reason: 'wrong_epoch' });
  }, 60_000);

  it('runs a small fleet on one shared pool and counts it', async () => {
    const fleet = await startFleet({
      url: cp.url,
      cells: ['cell-1', 'cell-2'],
      agentsPerCell: 3,
      strategy: 'decorrelated-jitter',
      adminToken,
      seed: 7,
      maxSockets: 16,
      agent: { pinnedPublicKeyPems: [publicKeyPem], waitMs: 1_000, backoffBaseMs: 50, backoffCapMs: 500 },
    });
    try {
      await eventually('every fleet agent to be in sync', () => fleet.counters().inSync === 6, 20_000);
      expect(fleet.counters()).toMatchObject({ agents: 6, connected: 6, backingOff: 0 });
    } finally {
      await fleet.stop();
    }
  }, 60_000);
});
