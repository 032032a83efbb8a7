// Change capture: the triggers on `resources` against a real Postgres, for the API's writes, the
// flows' writes and writes made by hand in SQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../test/support.ts';
import { createPool, type Db, withTransaction } from '../db/pool.ts';
import { recordObservedStatus } from './status.ts';
import { cellSequences, outboxRows, seedOrg, seedResource } from './testing.ts';
import { setOutboxTraceparent } from './traceparent.ts';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('outbox triggers', () => {
  let cp: TestControlPlane;
  let db: Db;
  beforeAll(async () => {
    cp = await startTestControlPlane();
    // a connection of our own, as an operator at a psql prompt would have
    db = createPool(cp.databaseUrl, 40);
  });
  afterAll(async () => {
    await db?.end();
    await cp?.close();
  });

  const eventsOf = async (resourceId: string) =>
    (await outboxRows(db)).filter((row) => row.resource_id === resourceId);

  it("captures the API's changes with the desired state the API shows, and none for bookkeeping", async () => {
    const owner = await cp.newOrg('outbox');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/resources`, {
      kind: 'database',
      name: 'orders',
      spec: { engine: 'postgres', version: '16', storageGb: 10 },
    });
    expect(created.status).toBe(202);
    const id = created.body.resource.id;
    const path = `/v1/orgs/${owner.orgId}/resources/${id}`;
    // the flow publishes (pending → provisioning) and the data plane reports: neither is desired state
    for (;;) {
      if ((await owner.client.get(path)).body.phase === 'provisioning') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await recordObservedStatus(cp.deps.db, { resourceId: id, observedGeneration: 1, status: { up: true } });
    await cp.deps.flows.waitForCompletion(created.body.flowId, 10_000);

    const view = (await owner.client.get(path)).body;
    expect(view.phase).toBe('ready');
    const events = await eventsOf(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'resource.created',
      sequence: expect.any(Number),
      cell_id: view.cell,
      org_id: owner.orgId,
      generation: 1,
      traceparent: null,
    });
    expect(events[0]!.desired).toEqual({
      kind: view.kind,
      name: view.name,
      spec: view.spec,
      generation: view.generation,
      phase: 'active',
      orgId: owner.orgId,
      cell: view.cell,
    });

    const changed = await owner.client.patch(path, {
      spec: { engine: 'postgres', version: '16', storageGb: 20 },
    });
    expect(changed.status).toBe(202);
    await owner.client.delete(path);
    const after = (await owner.client.get(path)).body;
    const all = await eventsOf(id);
    expect(all).toHaveLength(3);
    const [, updated, deprovisioning] = all;
    expect(updated).toMatchObject({ type: 'resource.updated', generation: 2 });
    expect(updated!.desired).toMatchObject({
      spec: changed.body.resource.spec,
      generation: 2,
      phase: 'active',
    });
    expect(deprovisioning).toMatchObject({ type: 'resource.updated', generation: 2 });
    expect(deprovisioning!.desired).toMatchObject({ phase: 'deprovisioning', spec: after.spec });
    expect(deprovisioning!.sequence).toBe(updated!.sequence + 1);
  });

  it('captures a change made by hand in SQL, and stamps the traceparent only where the app set it', async () => {
    const orgId = await seedOrg(db);
    const client = new pg.Client({ connectionString: cp.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `INSERT INTO resources (org_id, kind, name, spec, cell_id)
         VALUES ($1, 'pipeline', 'by-hand', '{"source": "s3://in", "sink": "s3://out"}', 'cell-2') RETURNING id`,
        [orgId],
      );
      const id = rows[0].id;
      await client.query('BEGIN');
      await setOutboxTraceparent(client, traceparent);
      await client.query(
        `UPDATE resources SET spec = spec || '{"sink": "s3://elsewhere"}', generation = 2 WHERE id = $1`,
        [id],
      );
      await client.query('COMMIT');
      // the same session, a later transaction: the setting was transaction-local
      await client.query(`UPDATE resources SET phase = 'suspended' WHERE id = $1`, [id]);
      // a malformed value is never signed and sent to agents
      await client.query('BEGIN');
      await setOutboxTraceparent(client, 'not-a-traceparent');
      await client.query(`UPDATE resources SET phase = 'ready' WHERE id = $1`, [id]);
      await client.query('COMMIT');
      const events = await eventsOf(id);
      expect(events.map((e) => [e.type, e.desired?.phase, e.traceparent])).toEqual([
        ['resource.created', 'active', null],
        ['resource.updated', 'active', traceparent],
        ['resource.updated', 'suspended', null],
        ['resource.updated', 'active', null],
      ]);
      expect(events[1]!.desired).toMatchObject({
        kind: 'pipeline',
        spec: { sink: 's3://elsewhere' },
        generation: 2,
      });
    } finally {
      await client.end();
    }
  });

  it('writes nothing for a rolled-back change, and the sequence goes on without a gap', async () => {
    const orgId = await seedOrg(db);
    const id = await seedResource(db, orgId, 'cell-1');
    const before = (await cellSequences(db))['cell-1']!;
    await expect(
      withTransaction(db, async (tx) => {
        await tx.query(`UPDATE resources SET spec = '{"storageGb": 99}', generation = 2 WHERE id = $1`, [id]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await cellSequences(db))['cell-1']).toBe(before);
    expect(await eventsOf(id)).toHaveLength(1);
    await db.query(`UPDATE resources SET spec = '{"storageGb": 5}', generation = 2 WHERE id = $1`, [id]);
    expect((await eventsOf(id)).at(-1)).toMatchObject({ type: 'resource.updated', sequence: before + 1 });
  });

  it('writes nothing for an observed-status report or a bookkeeping phase', async () => {
    const orgId = await seedOrg(db);
    const id = await seedResource(db, orgId, 'cell-1');
    await db.query(`UPDATE resources SET phase = 'provisioning', updated_at = now() WHERE id = $1`, [id]);
    await recordObservedStatus(db, { resourceId: id, observedGeneration: 1, status: { ok: true } });
    await recordObservedStatus(db, {
      resourceId: id,
      observedGeneration: 1,
      status: {},
      error: { class: 'internal', message: 'no capacity' },
    });
    await db.query(`UPDATE resources SET phase = 'failed' WHERE id = $1`, [id]);
    await db.query(`UPDATE resources SET phase = 'ready', spec = spec WHERE id = $1`, [id]);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['resource.created']);
  });

  it('moves a resource between cells as deleted in the old one and created in the new one', async () => {
    const orgId = await seedOrg(db);
    const id = await seedResource(db, orgId, 'cell-1');
    await db.query(`UPDATE resources SET cell_id = 'cell-2' WHERE id = $1`, [id]);
    await db.query(`UPDATE resources SET cell_id = NULL WHERE id = $1`, [id]);
    await db.query(`UPDATE resources SET cell_id = 'cell-1' WHERE id = $1`, [id]);
    const events = await eventsOf(id);
    expect(events.map((e) => [e.cell_id, e.type, e.desired?.cell ?? null])).toEqual([
      ['cell-1', 'resource.created', 'cell-1'],
      ['cell-1', 'resource.deleted', null],
      ['cell-1', 'resource.created', 'cell-1'],
      ['cell-2', 'resource.created', 'cell-2'],
      ['cell-2', 'resource.deleted', null],
    ]);
  });

  it('announces removal on finalize, on a hard delete (organization purge) and on TRUNCATE', async () => {
    const orgId = await seedOrg(db);
    const finalized = await seedResource(db, orgId, 'cell-1');
    const purged = await seedResource(db, orgId, 'cell-2');
    await db.query(`UPDATE resources SET phase = 'deleted', deleted_at = now() WHERE id = $1`, [finalized]);
    // finalized rows are no longer in any cell: the purge announces only the live one
    await db.query('DELETE FROM organizations WHERE id = $1', [orgId]);
    expect((await eventsOf(finalized)).map((e) => e.type)).toEqual(['resource.created', 'resource.deleted']);
    expect((await eventsOf(purged)).map((e) => [e.type, e.generation])).toEqual([
      ['resource.created', 1],
      ['resource.deleted', 1],
    ]);

    const live = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resources WHERE cell_id IS NOT NULL AND deleted_at IS NULL AND phase <> 'deleted'`,
    );
    // looked at inside the transaction, then rolled back: the other tests keep their resources
    const tx = await db.connect();
    let truncated: Array<{ type: string }>;
    try {
      await tx.query('BEGIN');
      const before = await tx.query<{ max: number }>('SELECT max(id)::int AS max FROM outbox_events');
      await tx.query('TRUNCATE resources');
      truncated = (await tx.query('SELECT type FROM outbox_events WHERE id > $1', [before.rows[0]!.max]))
        .rows;
    } finally {
      await tx.query('ROLLBACK');
      tx.release();
    }
    expect(live.rows[0]!.n).toBeGreaterThan(0);
    // a change still waiting for its commit-time event cannot be truncated away unannounced
    await expect(
      withTransaction(db, async (tx) => {
        await seedResource(tx, await seedOrg(tx), 'cell-1');
        await tx.query('TRUNCATE resources');
      }),
    ).rejects.toThrow(/pending trigger events/);
    expect(truncated).toHaveLength(live.rows[0]!.n);
    expect(new Set(truncated.map((row) => row.type))).toEqual(new Set(['resource.deleted']));
  });

  it('keeps per-cell sequences gapless and in commit order under 50 concurrent writers', async () => {
    const orgId = await seedOrg(db);
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => seedResource(db, orgId, i % 2 ? 'cell-2' : 'cell-1')),
    );
    const start = await cellSequences(db);
    // a reader polling throughout must only ever see a contiguous run of sequences
    let writing = true;
    const gaps: string[] = [];
    const reader = (async () => {
      while (writing) {
        const { rows } = await db.query<{ cell_id: string; n: number; lo: number; hi: number }>(
          `SELECT cell_id, count(*)::int AS n, min(sequence)::int AS lo, max(sequence)::int AS hi
             FROM outbox_events WHERE cell_id IN ('cell-1', 'cell-2') GROUP BY cell_id`,
        );
        for (const row of rows) if (row.hi - row.lo + 1 !== row.n) gaps.push(JSON.stringify(row));
      }
    })();
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        withTransaction(db, async (tx) => {
          await tx.query(
            `UPDATE resources SET spec = jsonb_set(spec, '{storageGb}', to_jsonb($2::int)), generation = generation + 1
              WHERE id = $1`,
            [id, 20 + i],
          );
          // hold the transaction open a little, so writers of a cell truly overlap
          await tx.query('SELECT pg_sleep(0.005)');
          if (i % 10 === 9) throw new Error('rolled back');
        }),
      ),
    );
    writing = false;
    await reader;
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(5);
    expect(gaps).toEqual([]);
    const end = await cellSequences(db);
    for (const cell of ['cell-1', 'cell-2']) {
      const sequences = (await outboxRows(db, cell)).map((row) => row.sequence);
      expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
      // 25 writers per cell, 5 of whom (i = 9, 19, 29, 39, 49: all odd, so cell-2) rolled back
      expect(end[cell]! - start[cell]!).toBe(cell === 'cell-1' ? 25 : 20);
    }
  });
});
