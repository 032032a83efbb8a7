// The data plane under faults, end to end: a real control plane (child process) and a real fleet
// (one agent per cell), built by the harness fixtures. Drift made by hand on the data plane is
// detected and converged; a partitioned agent catches up from the snapshot once its cursor was
// pruned; an internal apply error is hidden behind a support id and retried by the control plane;
// a customer apply error is shown exactly, with its hint, and not retried until the customer
// fixes the secret; a secret reaches only its cell's agent, sealed.
import { describe, expect } from 'vitest';
import { eventually, scenario, type Tenant } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
  simulators: ['auth'],
  fleet: { agentsPerCell: 1, agent: { waitMs: 1_000, heartbeatMs: 500, backoffCapMs: 500 } },
  controlPlane: {
    env: {
      RECONCILE_INTERVAL_MS: '200',
      RECONCILE_RESYNC_BACKOFF_MS: '200',
      PROVISION_RETRY_BASE_MS: '100',
      // a partitioned agent's cursor is pruned within a second
      OUTBOX_PRUNE_MS: '200',
      OUTBOX_RETENTION_MS: '1',
      OUTBOX_KEEP_PER_CELL: '1',
      AGENT_RATE_LIMIT_PER_SEC: '200',
      AGENT_RATE_LIMIT_BURST: '200',
    },
  },
});

const spec = { engine: 'postgres', version: '16', storageGb: 10 };

async function createResource(tenant: Tenant, name: string, cell: string, extra: object = {}) {
  const created = await tenant.client.post(tenant.path('/resources'), {
    kind: 'database',
    name,
    spec: { ...spec, ...extra },
    cell,
  });
  expect(created.status).toBe(202);
  return created.body.resource.id as string;
}

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

const resourceOf = (tenant: Tenant, id: string) =>
  tenant.client.get(tenant.path(`/resources/${id}`)).then((answer) => answer.body);

describe('the data plane under faults', () => {
  test('drift made by hand is detected, re-sent and converged', async ({ tenant, fleet, admin }) => {
    const id = await createResource(tenant, 'drifting', 'cell-1');
    const agent = agentOf(fleet.agents, 'cell-1');
    await eventually('ready', async () => (await resourceOf(tenant, id)).phase === 'ready');

    fleet.inject({ kind: 'drift', resourceId: id, patch: { storageGb: 500 } }, { cells: ['cell-1'] });
    // reported as observedSpec; the reconciler re-sends; the agent re-applies the desired spec
    await eventually('drift detected', async () => {
      const audit = await tenant.client.get(tenant.path('/audit-log?action=resource.drift_detected'));
      return audit.body.data.some((entry: { target: { id: string } }) => entry.target.id === id);
    });
    await eventually('drift converged', async () => {
      const audit = await tenant.client.get(tenant.path('/audit-log?action=resource.drift_converged'));
      return audit.body.data.some((entry: { target: { id: string } }) => entry.target.id === id);
    });
    expect(agent.get(id)?.spec).toEqual(spec);
    expect((await resourceOf(tenant, id)).reconcile).toBeNull();
    const metrics = await admin.get('/metrics');
    expect(metrics.body).toMatch(/planewright_reconciler_resyncs_total\{kind="drift"\} [1-9]/);
  });

  test('a partitioned agent keeps serving, then catches up from the snapshot', async ({ tenant, fleet }) => {
    const agent = agentOf(fleet.agents, 'cell-2');
    const before = await createResource(tenant, 'before-partition', 'cell-2');
    await eventually('applied before the partition', () => agent.get(before));
    const hydrations = agent.status.hydrations;

    const partition = fleet.inject({ kind: 'partition' }, { cells: ['cell-2'] });
    const during = await createResource(tenant, 'during-partition', 'cell-2');
    const changed = await tenant.client.patch(tenant.path(`/resources/${before}`), {
      spec: { ...spec, storageGb: 20 },
    });
    expect(changed.status).toBe(202);
    // the local data plane still answers from its last state
    expect(agent.get(before)?.generation).toBe(1);
    expect(agent.get(during)).toBeUndefined();
    // let the outbox be pruned past the agent's cursor
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(fleet.counters().partitioned).toBe(1);
    partition.clear();

    await eventually('caught up', () => agent.get(during) && agent.get(before)?.generation === 2);
    expect(agent.status.hydrations).toBeGreaterThan(hydrations);
    await eventually('both ready', async () => {
      const [a, b] = await Promise.all([resourceOf(tenant, before), resourceOf(tenant, during)]);
      return a.phase === 'ready' && a.observedGeneration === 2 && b.phase === 'ready';
    });
  });

  test('an internal apply error: a support id for the customer, a retry by the control plane', async ({
    tenant,
    fleet,
  }) => {
    const agent = agentOf(fleet.agents, 'cell-1');
    const failing = fleet.inject(
      {
        kind: 'applyError',
        class: 'internal',
        message: 'no capacity left on node pool np-7',
        times: 1,
        match: (_id, desired) => desired.name === 'internal-error',
      },
      { cells: ['cell-1'] },
    );
    const id = await createResource(tenant, 'internal-error', 'cell-1');
    await eventually('the control plane re-sent it and the agent applied it', () => agent.get(id));
    const seen = await eventually('ready', async () => {
      const resource = await resourceOf(tenant, id);
      return resource.phase === 'ready' && resource;
    });
    expect(seen.lastError).toBeNull();
    expect(failing.handles[0]!.active).toBe(false);
    expect(fleet.counters().applyErrors.internal).toBeGreaterThanOrEqual(1);
    // while it failed, the customer saw a support id and nothing of ours
    const audit = await tenant.client.get(tenant.path('/audit-log'));
    expect(JSON.stringify(audit.body)).not.toContain('np-7');
  });

  test('a customer apply error: the exact message and hint, no blind retry, fixed by a new secret', async ({
    tenant,
    fleet,
    env,
  }) => {
    const agent = agentOf(fleet.agents, 'cell-2');
    const secret = await tenant.client.post(tenant.path('/secrets'), {
      name: 'app-db',
      value: 'wrong-password',
    });
    expect(secret.status).toBe(201);
    // the data plane refuses the stored credentials as long as they are the wrong ones
    const refusing = fleet.inject(
      {
        kind: 'applyError',
        class: 'customer',
        message: 'password authentication failed for user "app"',
        hint: 'store the database password in secret app-db',
        match: (_id, desired) => desired.name === 'customer-error',
      },
      { cells: ['cell-2'] },
    );
    const id = await createResource(tenant, 'customer-error', 'cell-2', { secretRef: 'app-db' });
    const failed = await eventually('failed', async () => {
      const resource = await resourceOf(tenant, id);
      return resource.phase === 'failed' && resource;
    });
    expect(failed.lastError).toMatchObject({
      class: 'customer',
      message: 'password authentication failed for user "app"',
      hint: 'store the database password in secret app-db',
      supportId: expect.stringMatching(/^sup_/),
    });
    // the secret reached the cell-2 agent, sealed to it, and no other agent
    expect(agent.get(id)).toBeUndefined();
    const other = agentOf(fleet.agents, 'cell-1');
    expect(other.get(id)).toBeUndefined();
    const applyErrors = fleet.counters().applyErrors.customer ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 800));
    // not retried: no further apply attempt reached the agent
    expect(fleet.counters().applyErrors.customer ?? 0).toBe(applyErrors);

    // the customer fixes the password: the rotation re-sends the resource with the new secret, and
    // an update of the spec starts a new attempt
    refusing.clear();
    const rotated = await tenant.client.put(tenant.path(`/secrets/${secret.body.id}/value`), {
      value: 'right-password',
    });
    expect(rotated.status).toBe(200);
    const retried = await tenant.client.patch(tenant.path(`/resources/${id}`), {
      spec: { ...spec, secretRef: 'app-db', storageGb: 11 },
    });
    expect(retried.status).toBe(202);
    await eventually('ready after the fix', async () => (await resourceOf(tenant, id)).phase === 'ready');
    expect(agent.get(id)?.secrets?.['app-db']?.version).toBe(2);
    expect(env.fleet!.counters().rejected.bad_secret ?? 0).toBe(0);
  });
});
