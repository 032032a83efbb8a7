// The reconciler over real HTTP and a real database: drift reported by an agent, re-sent as
// `resource.resync` with a backoff until it converges or is marked unresolved; stuck resources;
// stale agents; all of it in the admin API, the resource API, the audit log and the metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestControlPlane, type TestControlPlane } from '../../test/support.ts';
import { databaseSpec } from '../../test/walk.ts';
import { outboxRows } from './testing.ts';

let cp: TestControlPlane;
let owner: { client: ApiClient; orgId: string };

beforeAll(async () => {
  cp = await startTestControlPlane({
    AGENT_RATE_LIMIT_BURST: '1000',
    AGENT_RATE_LIMIT_PER_SEC: '1000',
    // passes are run by the test through the admin API, so nothing happens behind its back
    RECONCILE_INTERVAL_MS: '0',
    RECONCILE_MAX_RESYNCS: '2',
    RECONCILE_RESYNC_BACKOFF_MS: '1',
    RECONCILE_STUCK_AFTER_MS: '60000',
    RECONCILE_STALE_AGENT_MS: '60000',
  });
  owner = await cp.newOrg('reconcile');
});
afterAll(() => cp?.close());

async function readyResource(agent: ApiClient, name: string) {
  const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
    kind: 'database',
    name,
    spec: databaseSpec,
    cell: 'cell-1',
  });
  expect(created.status).toBe(202);
  const id = created.body.resource.id as string;
  const report = await agent.post('/v1/agent/status', {
    reports: [{ resourceId: id, observedGeneration: 1, status: { ready: true }, observedSpec: databaseSpec }],
  });
  expect(report.body.results[0].outcome).toBe('applied');
  return id;
}

const resyncs = async (resourceId: string) =>
  (await outboxRows(cp.deps.db, 'cell-1')).filter(
    (row) => row.resource_id === resourceId && row.type === 'resource.resync',
  );

const runPass = async () => {
  const pass = await cp.admin.post('/v1/admin/reconciler/run', {});
  expect(pass.status).toBe(200);
  return pass.body as {
    stuckDetected: string[];
    resynced: { resourceId: string; kind: string }[];
    unresolved: { resourceId: string; kind: string }[];
  };
};

describe('drift', () => {
  it('is detected from a report, re-sent at the same generation, and ends when the data plane runs the desired spec', async () => {
    const agent = await cp.newAgent('cell-1', 'drift-agent');
    const id = await readyResource(agent.client, 'drifting');
    // an engineer resized the database by hand
    const drifted = await agent.client.post('/v1/agent/status', {
      reports: [
        {
          resourceId: id,
          observedGeneration: 1,
          status: { ready: true },
          observedSpec: { ...databaseSpec, storageGb: 999 },
        },
      ],
    });
    expect(drifted.body.results[0].outcome).toBe('applied');
    const seen = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${id}`);
    expect(seen.body.reconcile).toMatchObject({ kind: 'drift', state: 'converging', resyncs: 0 });

    const pass = await runPass();
    expect(pass.resynced).toContainEqual({ resourceId: id, kind: 'drift' });
    const sent = await resyncs(id);
    expect(sent).toHaveLength(1);
    // the desired state, unchanged, at the same generation
    expect(sent[0]).toMatchObject({ generation: 1, desired: { spec: databaseSpec, generation: 1 } });

    const view = await cp.admin.get('/v1/admin/reconciler');
    expect(view.body.findings).toContainEqual(
      expect.objectContaining({ resourceId: id, kind: 'drift', state: 'converging', resyncs: 1 }),
    );
    const metrics = await cp.anonymous.get('/metrics');
    expect(metrics.body).toMatch(/planewright_reconciler_findings\{kind="drift",state="converging"\} [1-9]/);
    expect(metrics.body).toMatch(/planewright_reconciler_resyncs_total\{kind="drift"\} [1-9]/);

    // the agent re-applied the desired spec
    await agent.client.post('/v1/agent/status', {
      reports: [
        { resourceId: id, observedGeneration: 1, status: { ready: true }, observedSpec: databaseSpec },
      ],
    });
    const converged = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${id}`);
    expect(converged.body.reconcile).toBeNull();
    const audit = await owner.client.get(`/v1/orgs/${owner.orgId}/audit-log?limit=100`);
    const actions = audit.body.data.map(
      (entry: { action: string; target: { id: string } }) => `${entry.action}:${entry.target.id}`,
    );
    expect(actions).toContain(`resource.drift_detected:${id}`);
    expect(actions).toContain(`resource.drift_converged:${id}`);
  });

  it('is marked unresolved once re-sending did not help, and re-sent no more', async () => {
    const agent = await cp.newAgent('cell-1', 'stubborn-agent');
    const id = await readyResource(agent.client, 'stubborn');
    const report = () =>
      agent.client.post('/v1/agent/status', {
        reports: [
          {
            resourceId: id,
            observedGeneration: 1,
            status: {},
            observedSpec: { ...databaseSpec, version: '9' },
          },
        ],
      });
    await report();
    for (let pass = 0; pass < 6; pass++) {
      await runPass();
      await report();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await resyncs(id)).toHaveLength(2);
    const seen = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${id}`);
    expect(seen.body.reconcile).toMatchObject({ kind: 'drift', state: 'unresolved', resyncs: 2 });
  });

  it('is not judged from a report without observedSpec, a failed apply or an older generation', async () => {
    const agent = await cp.newAgent('cell-1', 'quiet-agent');
    const id = await readyResource(agent.client, 'quiet');
    await agent.client.post('/v1/agent/status', {
      reports: [{ resourceId: id, observedGeneration: 1, status: { ready: true } }],
    });
    await agent.client.post('/v1/agent/status', {
      reports: [
        {
          resourceId: id,
          observedGeneration: 1,
          status: {},
          observedSpec: { engine: 'mysql' },
          error: { class: 'internal', message: 'disk full' },
        },
      ],
    });
    const seen = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${id}`);
    expect(seen.body.reconcile).toBeNull();
  });
});

describe('stuck resources and stale agents', () => {
  it('finds a generation the data plane has not applied in time and re-sends it', async () => {
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
      kind: 'database',
      name: 'stuck',
      spec: databaseSpec,
      cell: 'cell-2',
    });
    const id = created.body.resource.id as string;
    // its provisioning flow waits for the data plane (rows a step holds are skipped by a pass)
    for (let i = 0; i < 200; i++) {
      const { rows } = await cp.deps.db.query('SELECT state FROM flows WHERE id = $1', [created.body.flowId]);
      if (rows[0]?.state === 'waiting') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await runPass()).stuckDetected).not.toContain(id);
    // as if its desired state had changed two minutes ago
    await cp.deps.db.query("UPDATE resources SET desired_at = now() - interval '2 minutes' WHERE id = $1", [
      id,
    ]);
    const pass = await runPass();
    expect(pass.stuckDetected).toContain(id);
    expect(pass.resynced).toContainEqual({ resourceId: id, kind: 'stuck' });
    const rows = (await outboxRows(cp.deps.db, 'cell-2')).filter((row) => row.resource_id === id);
    expect(rows.map((row) => row.type)).toContain('resource.resync');
    // applied at last: no longer stuck
    const agent = await cp.newAgent('cell-2', 'late-agent');
    await agent.client.post('/v1/agent/status', {
      reports: [{ resourceId: id, observedGeneration: 1, status: { ready: true } }],
    });
    expect((await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${id}`)).body.reconcile).toBeNull();
  });

  it('lists agents without a heartbeat as stale, in the API and the metrics', async () => {
    const fresh = await cp.newAgent('cell-2', 'fresh');
    const silent = await cp.newAgent('cell-2', 'silent');
    expect((await fresh.client.post('/v1/agent/heartbeat', { appliedSequence: 0 })).status).toBe(204);
    await cp.deps.db.query("UPDATE agents SET registered_at = now() - interval '5 minutes' WHERE id = $1", [
      silent.agentId,
    ]);
    const view = await cp.admin.get('/v1/admin/reconciler');
    const stale = view.body.staleAgents.map((agent: { agentId: string }) => agent.agentId);
    expect(stale).toContain(silent.agentId);
    expect(stale).not.toContain(fresh.agentId);
    const listed = await cp.admin.get('/v1/admin/agents?cell=cell-2');
    expect(listed.body.agents[0]).toMatchObject({ agentId: silent.agentId, stale: true, lastSeenAt: null });
    const metrics = await cp.anonymous.get('/metrics');
    expect(metrics.body).toMatch(/planewright_agents\{cell="cell-2",stale="true"\} 1/);
    expect((await cp.admin.get('/v1/admin/agents?cell=CELL!')).status).toBe(400);
  });
});
