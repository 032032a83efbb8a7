// Provision resource (issue 7, item 4) and drift (item 9): what scenarios/dataplane-faults.test.ts
// does not already show. There, an internal error is retried once and a customer error is shown
// exactly and fixed by a new secret; drift is converged and counted. Here: while "no capacity"
// keeps failing, the customer sees only a generic message and a support id (a new one per failure),
// which leads support to the agent's own text; the control plane re-sends with backoff until the
// resource is ready. And drift is visible while it lasts, in the API (the resource's `reconcile`,
// the operator's findings) and in the metrics, until the reconciler converges it.
import pg from 'pg';
import { afterAll, describe, expect } from 'vitest';
import { eventually, scenario, type Tenant } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
  simulators: ['auth'],
  fleet: { agentsPerCell: 1, agent: { waitMs: 1_000, heartbeatMs: 500, backoffCapMs: 300 } },
  controlPlane: {
    env: {
      // the reconciler runs when the test asks, so drift stays visible until then
      RECONCILE_INTERVAL_MS: '0',
      // long enough to read the failure between re-sends
      PROVISION_RETRY_BASE_MS: '400',
      AGENT_RATE_LIMIT_PER_SEC: '200',
      AGENT_RATE_LIMIT_BURST: '200',
    },
  },
});

const spec = { engine: 'postgres', version: '16', storageGb: 10 };
const agentText = 'no capacity left on node pool np-7 (0 of 64 vCPU free)';

let pool: pg.Pool | undefined;
afterAll(() => pool?.end());

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

const resourceOf = (tenant: Tenant, id: string) =>
  tenant.client.get(tenant.path(`/resources/${id}`)).then((answer) => answer.body);

const gauge = (metrics: string, name: string, labels: string) =>
  Number(metrics.match(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm'))?.[1] ?? 0);

describe('provision resource and drift', () => {
  test('no capacity: a generic message and a support id per failure, re-sent until ready', async ({
    env,
    tenant,
    fleet,
    admin,
  }) => {
    pool ??= new pg.Pool({ connectionString: env.databaseUrl, max: 1 });
    const agent = agentOf(fleet.agents, 'cell-1');
    fleet.inject(
      {
        kind: 'applyError',
        class: 'internal',
        message: agentText,
        times: 2,
        match: (_id, desired) => desired.name === 'no-capacity',
      },
      { cells: ['cell-1'] },
    );
    const created = await tenant.client.post(tenant.path('/resources'), {
      kind: 'database',
      name: 'no-capacity',
      spec,
      cell: 'cell-1',
    });
    expect(created.status).toBe(202);
    const id = created.body.resource.id as string;

    // each failure as the customer sees it, until the resource is ready
    const seen = new Map<string, { message: string; hint: unknown; class: string }>();
    const supportSees = new Map<string, string>();
    const ready = await eventually(
      'ready after the re-sends',
      async () => {
        const resource = await resourceOf(tenant, id);
        const error = resource.lastError;
        if (error && !seen.has(error.supportId)) {
          seen.set(error.supportId, error);
          // support looks the quoted id up in the stored report: the agent's own text
          const stored = await pool!.query(
            `SELECT last_error->>'message' AS message FROM resources WHERE last_error->>'supportId' = $1`,
            [error.supportId],
          );
          if (stored.rows[0]) supportSees.set(error.supportId, stored.rows[0].message);
        }
        return resource.phase === 'ready' && resource;
      },
      20_000,
    );
    expect(ready).toMatchObject({ lastError: null, observedGeneration: 1 });
    expect(agent.get(id)?.generation).toBe(1);
    expect(seen.size).toBe(2);
    for (const [supportId, error] of seen) {
      expect(supportId).toMatch(/^sup_[0-9a-f]{16}$/);
      expect(error).toMatchObject({ class: 'internal', hint: null });
      expect(error.message).toContain(supportId);
      expect(error.message).not.toContain('np-7');
    }
    // the control plane, not the agent, retried: twice, with the flow's backoff
    const flow = await eventually('the flow finished', async () => {
      const answer = (await admin.get(`/v1/admin/flows/${created.body.flowId}`)).body;
      return answer.state === 'succeeded' && answer;
    });
    expect(flow.context).toMatchObject({ internalRetries: 2 });
    expect(fleet.counters().applyErrors.internal).toBeGreaterThanOrEqual(2);
    expect([...supportSees.values()]).toContain(agentText);
    // nothing of the agent's text reached the customer's audit log
    const audit = await tenant.client.get(tenant.path('/audit-log'));
    expect(JSON.stringify(audit.body)).not.toContain('np-7');
  });

  test('drift is visible in the API and the metrics until the reconciler converges it', async ({
    tenant,
    fleet,
    admin,
  }) => {
    const created = await tenant.client.post(tenant.path('/resources'), {
      kind: 'database',
      name: 'drifting',
      spec,
      cell: 'cell-2',
    });
    const id = created.body.resource.id as string;
    const agent = agentOf(fleet.agents, 'cell-2');
    await eventually('ready', async () => (await resourceOf(tenant, id)).phase === 'ready');
    const before = gauge(
      (await admin.get('/metrics')).body,
      'planewright_reconciler_findings',
      'kind="drift",state="converging"',
    );

    // someone resizes the database by hand on the data plane
    fleet.inject({ kind: 'drift', resourceId: id, patch: { storageGb: 500 } }, { cells: ['cell-2'] });
    const drifting = await eventually('drift shown on the resource', async () => {
      const resource = await resourceOf(tenant, id);
      return resource.reconcile?.kind === 'drift' && resource;
    });
    expect(drifting.reconcile).toMatchObject({ kind: 'drift', state: 'converging', resyncs: 0 });
    // the desired spec is unchanged: the customer's, not the hand-made one
    expect(drifting.spec).toEqual(spec);
    expect(agent.get(id)?.spec.storageGb).toBe(500);
    const findings = await admin.get('/v1/admin/reconciler');
    expect(JSON.stringify(findings.body.findings)).toContain(id);
    const metrics = (await admin.get('/metrics')).body;
    expect(gauge(metrics, 'planewright_reconciler_findings', 'kind="drift",state="converging"')).toBe(
      before + 1,
    );

    // the reconciler re-sends the desired state; the agent re-applies it
    const pass = await admin.post('/v1/admin/reconciler/run');
    expect(pass.status).toBe(200);
    await eventually('converged', async () => (await resourceOf(tenant, id)).reconcile === null);
    expect(agent.get(id)?.spec).toEqual(spec);
    const after = (await admin.get('/metrics')).body;
    expect(gauge(after, 'planewright_reconciler_findings', 'kind="drift",state="converging"')).toBe(before);
    expect(gauge(after, 'planewright_reconciler_resyncs_total', 'kind="drift"')).toBeGreaterThanOrEqual(1);
    const audit = await tenant.client.get(tenant.path('/audit-log'));
    const actions = audit.body.data
      .filter((entry: { target: { id: string } }) => entry.target.id === id)
      .map((entry: { action: string }) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['resource.drift_detected', 'resource.drift_converged']));
  });
});
