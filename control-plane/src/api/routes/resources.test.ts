import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';
import { type ObservedStatusReport, recordObservedStatus } from '../../dataplane/status.ts';

const database = (storageGb = 10, extra: Record<string, unknown> = {}) => ({
  engine: 'postgres',
  version: '16',
  storageGb,
  ...extra,
});

/** Plays the data plane: reports what the agent observed for a resource. */
const report = (
  cp: TestControlPlane,
  resourceId: string,
  observedGeneration: number,
  extra: Partial<ObservedStatusReport> = {},
) =>
  recordObservedStatus(cp.deps.db, {
    resourceId,
    observedGeneration,
    status: { applied: observedGeneration },
    ...extra,
  });

/** Waits until the flow sleeps on its resource's signal, so a report is sure to be the thing that wakes it. */
async function waitUntilWaiting(cp: TestControlPlane, flowId: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await cp.deps.db.query('SELECT state, wait_for FROM flows WHERE id = $1', [flowId]);
    if (rows[0]?.state === 'waiting' && rows[0].wait_for?.startsWith('resource:')) return;
    if (Date.now() > deadline) throw new Error(`flow ${flowId} never waited: ${JSON.stringify(rows[0])}`);
    await sleep(10);
  }
}

async function create(client: ApiClient, orgId: string, body: Record<string, unknown>) {
  const created = await client.post(`/v1/orgs/${orgId}/resources`, body);
  if (created.status !== 202) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  return created.body as { resource: { id: string; [key: string]: unknown }; flowId: string };
}

describe('resources', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane();
  });
  afterAll(() => cp?.close());

  it('accepts a database at once (pending) and marks it ready once the data plane reports it', async () => {
    const owner = await cp.newOrg('prov');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
      kind: 'database',
      name: 'orders',
      spec: database(),
    });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({
      flowId: expect.any(String),
      resource: expect.objectContaining({
        kind: 'database',
        name: 'orders',
        spec: database(),
        generation: 1,
        phase: 'pending',
        observedGeneration: 0,
        status: {},
        lastError: null,
        deletedAt: null,
        cell: expect.stringMatching(/^cell-[12]$/),
      }),
    });
    const path = `/v1/orgs/${owner.orgId}/resources/${created.body.resource.id}`;
    await waitUntilWaiting(cp, created.body.flowId);
    expect((await owner.client.get(path)).body.phase).toBe('provisioning');

    expect(
      await report(cp, created.body.resource.id, 1, { status: { endpoint: 'orders.internal:5432' } }),
    ).toBe('applied');
    expect(await cp.deps.flows.waitForCompletion(created.body.flowId, 10_000)).toEqual({
      state: 'succeeded',
      lastError: null,
    });
    expect((await owner.client.get(path)).body).toMatchObject({
      phase: 'ready',
      generation: 1,
      observedGeneration: 1,
      status: { endpoint: 'orders.internal:5432' },
    });
    const flow = await cp.admin.get(`/v1/admin/flows/${created.body.flowId}`);
    expect([...new Set(flow.body.steps.map((s: { step: string }) => s.step))]).toEqual([
      'place',
      'publish',
      'await-ready',
      'ready',
    ]);
    const audit = await cp.deps.db.query(
      'SELECT action, actor_type FROM audit_log WHERE target_id = $1 ORDER BY id',
      [created.body.resource.id],
    );
    expect(audit.rows).toEqual([
      { action: 'resource.created', actor_type: 'user' },
      { action: 'resource.ready', actor_type: 'flow' },
    ]);
  });

  it('bumps the generation on a spec change and waits for the data plane to observe the new one', async () => {
    const owner = await cp.newOrg('change');
    const first = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'ledger',
      spec: database(),
    });
    const id = first.resource.id;
    const path = `/v1/orgs/${owner.orgId}/resources/${id}`;
    await report(cp, id, 1);
    await cp.deps.flows.waitForCompletion(first.flowId, 10_000);

    const changed = await owner.client.patch(path, { spec: database(50) });
    expect(changed.status).toBe(202);
    expect(changed.body.resource).toMatchObject({ generation: 2, observedGeneration: 1, spec: database(50) });
    expect(changed.body.flowId).not.toBe(first.flowId);
    const same = await owner.client.patch(path, { spec: database(50) });
    expect(same.body).toMatchObject({ flowId: null, resource: { generation: 2 } });

    await waitUntilWaiting(cp, changed.body.flowId);
    expect((await owner.client.get(path)).body).toMatchObject({
      phase: 'provisioning',
      observedGeneration: 1,
    });
    // the data plane still on generation 1: the flow re-checks and keeps waiting
    expect(await report(cp, id, 1)).toBe('applied');
    expect(await cp.deps.flows.waitForCompletion(changed.body.flowId, 300)).toBeUndefined();
    expect(await report(cp, id, 3)).toBe('future_generation');
    expect(await report(cp, id, 2)).toBe('applied');
    expect(await cp.deps.flows.waitForCompletion(changed.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    expect((await owner.client.get(path)).body).toMatchObject({
      phase: 'ready',
      generation: 2,
      observedGeneration: 2,
      spec: database(50),
    });
    // a late report of an older generation cannot move the resource backwards
    expect(await report(cp, id, 1)).toBe('stale');
    expect((await owner.client.get(path)).body.observedGeneration).toBe(2);

    const wrongKind = await owner.client.patch(path, {
      spec: { source: 's3://bucket', sink: 'kafka://topic' },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.message).toMatch(/^invalid body: .*at engine/);
    expect(wrongKind.body.error.details.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'spec.engine' }),
        expect.objectContaining({
          path: 'spec',
          message: expect.stringMatching(/Unrecognized keys: "source", "sink"/),
        }),
      ]),
    );
  });

  it('lets a newer generation take over from a provision still waiting', async () => {
    const owner = await cp.newOrg('supersede');
    const first = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'cache',
      spec: database(),
    });
    const second = await owner.client.patch(`/v1/orgs/${owner.orgId}/resources/${first.resource.id}`, {
      spec: database(20),
    });
    expect(await cp.deps.flows.waitForCompletion(first.flowId, 10_000)).toMatchObject({ state: 'succeeded' });
    const context = await cp.deps.db.query('SELECT context FROM flows WHERE id = $1', [first.flowId]);
    expect(context.rows[0].context.superseded).toBe('generation 2 replaced it');
    await report(cp, first.resource.id, 2);
    expect(await cp.deps.flows.waitForCompletion(second.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    const ready = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${first.resource.id}`);
    expect(ready.body).toMatchObject({ phase: 'ready', generation: 2, observedGeneration: 2 });
  });

  it('never loses a report, whenever it arrives', async () => {
    const owner = await cp.newOrg('race');
    const created = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        create(owner.client, owner.orgId, { kind: 'database', name: `db-${n}`, spec: database() }),
      ),
    );
    // no waiting for the flows: some reports land before the flow waits, some while it decides to
    for (const [index, { resource }] of created.entries()) {
      await sleep(index * 3);
      await report(cp, resource.id, 1);
    }
    for (const { flowId } of created) {
      expect(await cp.deps.flows.waitForCompletion(flowId, 10_000)).toMatchObject({ state: 'succeeded' });
    }
  });

  it('fails the flow with the exact customer message; hides an internal error behind a support id', async () => {
    const owner = await cp.newOrg('errors');
    const created = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'huge',
      spec: database(16_384),
    });
    const path = `/v1/orgs/${owner.orgId}/resources/${created.resource.id}`;
    await waitUntilWaiting(cp, created.flowId);

    await report(cp, created.resource.id, 1, {
      error: { class: 'internal', message: 'disk controller timeout on node 7' },
    });
    const internal = (await owner.client.get(path)).body;
    expect(internal.lastError).toMatchObject({
      class: 'internal',
      hint: null,
      supportId: expect.stringMatching(/^sup_/),
    });
    expect(internal.lastError.message).toContain(internal.lastError.supportId);
    expect(JSON.stringify(internal)).not.toContain('disk controller');
    // the agent retries internal errors: the flow keeps waiting
    expect(await cp.deps.flows.waitForCompletion(created.flowId, 300)).toBeUndefined();

    const message = 'storageGb 16384 exceeds the 100 GB limit of the trial plan';
    await report(cp, created.resource.id, 1, {
      error: { class: 'customer', message, hint: 'upgrade to pro, or ask for at most 100 GB' },
    });
    expect(await cp.deps.flows.waitForCompletion(created.flowId, 10_000)).toEqual({
      state: 'failed',
      lastError: `step await-ready failed: ${message}`,
    });
    expect((await owner.client.get(path)).body).toMatchObject({
      phase: 'failed',
      lastError: {
        class: 'customer',
        message,
        hint: 'upgrade to pro, or ask for at most 100 GB',
        generation: 1,
      },
    });

    // the customer fixes the spec: a new generation provisions and clears the error
    const fixed = await owner.client.patch(path, { spec: database(100) });
    expect(fixed.body.resource.generation).toBe(2);
    await waitUntilWaiting(cp, fixed.body.flowId);
    await report(cp, created.resource.id, 2);
    expect(await cp.deps.flows.waitForCompletion(fixed.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    expect((await owner.client.get(path)).body).toMatchObject({ phase: 'ready', lastError: null });
  });

  it('re-sends after an internal error with a backoff, a bounded number of times; never after a customer error', async () => {
    const retrying = await startTestControlPlane({
      PROVISION_RETRY_BASE_MS: '30',
      PROVISION_INTERNAL_RETRIES: '2',
    });
    try {
      const owner = await retrying.newOrg('retries');
      const resyncs = async (resourceId: string) => {
        const { rows } = await retrying.deps.db.query(
          "SELECT count(*)::int AS n FROM outbox_events WHERE resource_id = $1 AND type = 'resource.resync'",
          [resourceId],
        );
        return rows[0].n as number;
      };
      const untilResyncs = async (resourceId: string, n: number) => {
        const deadline = Date.now() + 5_000;
        while ((await resyncs(resourceId)) < n) {
          if (Date.now() > deadline) throw new Error(`no resync #${n} of ${resourceId}`);
          await sleep(10);
        }
      };
      const internal = {
        error: { class: 'internal' as const, message: 'no capacity left on the node pool' },
      };

      // recovers after one re-send
      const healed = await create(owner.client, owner.orgId, {
        kind: 'database',
        name: 'healed',
        spec: database(),
      });
      await waitUntilWaiting(retrying, healed.flowId);
      await report(retrying, healed.resource.id, 1, internal);
      await untilResyncs(healed.resource.id, 1);
      await report(retrying, healed.resource.id, 1);
      expect(await retrying.deps.flows.waitForCompletion(healed.flowId, 10_000)).toMatchObject({
        state: 'succeeded',
      });
      expect(await resyncs(healed.resource.id)).toBe(1);

      // fails the same way every time: two re-sends, then the flow gives up with a support id
      const broken = await create(owner.client, owner.orgId, {
        kind: 'database',
        name: 'broken',
        spec: database(),
      });
      await waitUntilWaiting(retrying, broken.flowId);
      await report(retrying, broken.resource.id, 1, internal);
      await untilResyncs(broken.resource.id, 1);
      await report(retrying, broken.resource.id, 1, internal);
      await untilResyncs(broken.resource.id, 2);
      await report(retrying, broken.resource.id, 1, internal);
      const outcome = await retrying.deps.flows.waitForCompletion(broken.flowId, 10_000);
      expect(outcome?.state).toBe('failed');
      expect(await resyncs(broken.resource.id)).toBe(2);
      const seen = (await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${broken.resource.id}`)).body;
      expect(seen.phase).toBe('failed');
      expect(seen.lastError).toMatchObject({ class: 'internal', supportId: expect.stringMatching(/^sup_/) });
      expect(seen.lastError.message).toContain(seen.lastError.supportId);
      expect(JSON.stringify(seen)).not.toContain('node pool');

      // a customer error: failed at once, never re-sent
      const refused = await create(owner.client, owner.orgId, {
        kind: 'database',
        name: 'refused',
        spec: database(),
      });
      await waitUntilWaiting(retrying, refused.flowId);
      await report(retrying, refused.resource.id, 1, {
        error: {
          class: 'customer',
          message: 'password authentication failed for user "app"',
          hint: 'rotate the secret',
        },
      });
      expect((await retrying.deps.flows.waitForCompletion(refused.flowId, 10_000))?.state).toBe('failed');
      await sleep(100);
      expect(await resyncs(refused.resource.id)).toBe(0);
    } finally {
      await retrying.close();
    }
  });

  it('deprovisions: phase deprovisioning, then deleted with the row kept and the name free again', async () => {
    const owner = await cp.newOrg('deprov');
    const base = `/v1/orgs/${owner.orgId}/resources`;
    const created = await create(owner.client, owner.orgId, {
      kind: 'pipeline',
      name: 'events',
      spec: { source: 'postgres://orders.internal/app', sink: 's3://events-archive' },
    });
    const id = created.resource.id;
    await report(cp, id, 1);
    await cp.deps.flows.waitForCompletion(created.flowId, 10_000);

    const deletion = await owner.client.delete(`${base}/${id}`);
    expect(deletion.status).toBe(202);
    expect(deletion.body.resource.phase).toBe('deprovisioning');
    expect((await owner.client.delete(`${base}/${id}`)).body.flowId).toBe(deletion.body.flowId);
    expect((await owner.client.patch(`${base}/${id}`, { spec: { source: 'a', sink: 'b' } })).status).toBe(
      409,
    );

    await waitUntilWaiting(cp, deletion.body.flowId);
    // a status report without the removal does not finish it
    await report(cp, id, 1, { status: { draining: true } });
    expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 300)).toBeUndefined();
    await report(cp, id, 1, { status: {}, deleted: true });
    expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });

    const gone = (await owner.client.get(`${base}/${id}`)).body;
    expect(gone).toMatchObject({ phase: 'deleted', deletedAt: expect.any(String), name: 'events' });
    expect((await owner.client.get(base)).body.data).toEqual([]);
    expect(
      (await owner.client.get(`${base}?phase=deleted`)).body.data.map((r: { id: string }) => r.id),
    ).toEqual([id]);
    expect((await owner.client.patch(`${base}/${id}`, { spec: { source: 'a', sink: 'b' } })).status).toBe(
      409,
    );
    expect(await report(cp, id, 1, { deleted: true })).toBe('not_found');
    const audit = await cp.deps.db.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id', [
      id,
    ]);
    expect(audit.rows.map((row) => row.action)).toEqual([
      'resource.created',
      'resource.ready',
      'resource.deprovision_requested',
      'resource.deleted',
    ]);
    const again = await create(owner.client, owner.orgId, {
      kind: 'pipeline',
      name: 'events',
      spec: { source: 'postgres://orders.internal/app', sink: 's3://events-archive' },
    });
    expect(again.resource.id).not.toBe(id);
  });

  it('filters by kind and phase and pages in creation order', async () => {
    const owner = await cp.newOrg('lists');
    const base = `/v1/orgs/${owner.orgId}/resources`;
    const ids: string[] = [];
    for (const name of ['a1', 'a2', 'a3']) {
      ids.push(
        (await create(owner.client, owner.orgId, { kind: 'database', name, spec: database() })).resource.id,
      );
    }
    await create(owner.client, owner.orgId, {
      kind: 'pipeline',
      name: 'p1',
      spec: { source: 'x://a', sink: 'y://b' },
    });
    const pipelines = await owner.client.get(`${base}?kind=pipeline`);
    expect(pipelines.body.data.map((r: { name: string }) => r.name)).toEqual(['p1']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await owner.client.get(
        `${base}?kind=database&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect((await owner.client.get(`${base}?phase=ready`)).body.data).toEqual([]);
    expect((await owner.client.get(`${base}?cursor=bm9wZQ`)).status).toBe(400);
    expect((await owner.client.get(`${base}?phase=sleeping`)).status).toBe(400);
    expect((await owner.client.get(`${base}?kind=database&sort=name`)).status).toBe(400);
  });

  it('answers bad input, missing roles and other tenants with 4xx on every route', async () => {
    const owner = await cp.newOrg('strict');
    const stranger = await cp.newOrg('stranger');
    const member = await cp.newUser('member');
    await member.client.get('/v1/orgs');
    await cp.deps.db.query(
      `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM users WHERE subject = $2`,
      [owner.orgId, member.sub],
    );
    const base = `/v1/orgs/${owner.orgId}/resources`;
    const bad = [
      { kind: 'queue', name: 'q', spec: {} },
      { kind: 'database', name: 'x', spec: database(), extra: true },
      { kind: 'database', name: 'x', spec: { ...database(), replicas: 3 } },
      { kind: 'database', name: 'x', spec: database(0) },
      { kind: 'database', name: 'x', spec: { ...database(), engine: 'mysql' } },
      { kind: 'database', name: 'Bad_Name', spec: database() },
      { kind: 'pipeline', name: 'x', spec: { source: 'postgres://admin:hunter2@db/app', sink: 's3://b' } },
      { kind: 'database', name: 'x', spec: database(10, { secretRef: 'missing' }) },
      { kind: 'database', name: 'x', spec: database(), cell: 'cell-404' },
      { name: 'x', spec: database() },
    ];
    for (const body of bad) {
      const answer = await owner.client.post(base, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    }
    expect((await owner.client.post(base, '{"kind":')).status).toBe(400);

    const created = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'main',
      spec: database(),
    });
    const path = `${base}/${created.resource.id}`;
    expect((await owner.client.post(base, { kind: 'database', name: 'main', spec: database() })).status).toBe(
      409,
    );
    expect((await owner.client.patch(path, { spec: database(), generation: 7 })).status).toBe(400);
    expect((await owner.client.patch(path, { spec: 'big' })).status).toBe(400);
    expect((await owner.client.get(`${base}/not-a-uuid`)).status).toBe(400);
    expect((await owner.client.delete(`${base}/not-a-uuid`)).status).toBe(400);
    expect((await owner.client.get(`${base}/${randomUUID()}`)).status).toBe(404);

    // members read; only owners and admins change
    expect((await member.client.get(path)).status).toBe(200);
    expect((await member.client.post(base, { kind: 'database', name: 'm', spec: database() })).status).toBe(
      403,
    );
    expect((await member.client.patch(path, { spec: database(11) })).status).toBe(403);
    expect((await member.client.delete(path)).status).toBe(403);

    // another tenant: 404 through its own organization and through ours
    const foreign = `/v1/orgs/${stranger.orgId}/resources/${created.resource.id}`;
    expect((await stranger.client.get(foreign)).status).toBe(404);
    expect((await stranger.client.patch(foreign, { spec: database(11) })).status).toBe(404);
    expect((await stranger.client.delete(foreign)).status).toBe(404);
    expect((await stranger.client.get(path)).status).toBe(404);
    expect((await stranger.client.get(base)).status).toBe(404);
    expect((await owner.client.get(path)).body.generation).toBe(1);
  });
});

describe('placement', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    // no flow worker: placement is decided by the request alone
    cp = await startTestControlPlane({ CELLS: 'cell-a:3,cell-b:2', FLOW_WORKER_ENABLED: 'false' });
  });
  afterAll(() => cp?.close());

  const liveCounts = async () => {
    const { rows } = await cp.deps.db.query(
      `SELECT c.id, count(r.id)::int AS used FROM cells c LEFT JOIN resources r ON r.cell_id = c.id AND r.deleted_at IS NULL
        GROUP BY c.id ORDER BY c.id`,
    );
    return Object.fromEntries(rows.map((row) => [row.id, row.used]));
  };

  it('places in the least-loaded cell and never over capacity, however many create at once', async () => {
    const owner = await cp.newOrg('placer');
    const base = `/v1/orgs/${owner.orgId}/resources`;
    const first = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'first',
      spec: database(),
    });
    const second = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'second',
      spec: database(),
    });
    expect([first.resource.cell, second.resource.cell]).toEqual(['cell-a', 'cell-b']);

    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        owner.client.post(base, { kind: 'database', name: `burst-${n}`, spec: database() }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(3);
    const refused = answers.filter((a) => a.status !== 202);
    expect(refused.map((a) => [a.status, a.body.error.code])).toEqual(Array(9).fill([409, 'no_capacity']));
    expect(await liveCounts()).toEqual({ 'cell-a': 3, 'cell-b': 2 });

    const named = await owner.client.post(base, {
      kind: 'database',
      name: 'late',
      spec: database(),
      cell: 'cell-b',
    });
    expect([named.status, named.body.error.code, named.body.error.message]).toEqual([
      409,
      'no_capacity',
      expect.stringContaining('cell "cell-b" is full'),
    ]);
  });

  it('never over-places in a named cell under concurrent creates', async () => {
    await cp.deps.db.query(`INSERT INTO cells (id, capacity) VALUES ('cell-c', 2)`);
    const owner = await cp.newOrg('named');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
          kind: 'database',
          name: `pinned-${n}`,
          spec: database(),
          cell: 'cell-c',
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 202).map((a) => a.body.resource.cell)).toEqual([
      'cell-c',
      'cell-c',
    ]);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(6);
    expect((await liveCounts())['cell-c']).toBe(2);
  });
});

describe('provisioning timeout', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane({ PROVISION_TIMEOUT_MS: '300' });
  });
  afterAll(() => cp?.close());

  it('fails the flow and the resource when the data plane never answers', async () => {
    const owner = await cp.newOrg('silent');
    const created = await create(owner.client, owner.orgId, {
      kind: 'database',
      name: 'lost',
      spec: database(),
    });
    expect(await cp.deps.flows.waitForCompletion(created.flowId, 10_000)).toEqual({
      state: 'failed',
      lastError: 'step await-ready failed: the data plane did not confirm generation 1 within 300 ms',
    });
    const resource = await owner.client.get(`/v1/orgs/${owner.orgId}/resources/${created.resource.id}`);
    expect(resource.body).toMatchObject({
      phase: 'failed',
      lastError: { class: 'internal', supportId: `flow_${created.flowId}`, generation: 1 },
    });
  });
});
