// Reading the outbox as an agent will through the gateway: signed pages after a cursor, snapshots
// with an ETag, and pruning that sends agents that are behind to a snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support.ts';
import { createPool, type Db } from '../db/pool.ts';
import { type CellSnapshot, type EventPage, readCellHead, readEvents, readSnapshot } from './feed.ts';
import { pruneOutbox } from './prune.ts';
import { createEventSigner, generateEventSigningKey } from './signing.ts';
import { seedOrg, seedResource } from './testing.ts';
import { type DesiredResource, pinPublicKeys, verifySignedEvent } from './verify.ts';

const signer = createEventSigner(generateEventSigningKey().privateKey);
const keys = pinPublicKeys([signer.publicKeyPem]);

function asPage(result: Awaited<ReturnType<typeof readEvents>>): EventPage {
  if (result.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(result)}`);
  return result;
}

/** Plays an agent: verifies and applies every event after `from`, page by page. */
async function follow(db: Db, cell: string, from = 0, state = new Map<string, DesiredResource>()) {
  let cursor = from;
  for (;;) {
    const page = asPage(await readEvents(db, signer, { cell, afterSequence: cursor, limit: 7 }));
    for (const signed of page.events) {
      const verified = verifySignedEvent(signed, keys, { cell, lastAppliedSequence: cursor });
      if (verified.outcome !== 'ok') throw new Error(verified.message);
      if (verified.event.desired) state.set(verified.event.resourceId, verified.event.desired);
      else state.delete(verified.event.resourceId);
      cursor = verified.event.sequence;
    }
    if (page.events.length === 0) return { state, cursor };
  }
}

const asMap = (snapshot: CellSnapshot) =>
  new Map(snapshot.resources.map((entry) => [entry.resourceId, entry.desired]));

describe('outbox feed', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let orgId: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPool(database.url, 4);
    orgId = await seedOrg(db);
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  it('answers signed events after a cursor, in order, a page at a time', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await seedResource(db, orgId, 'cell-1', `page-${i}`));
    await db.query(`UPDATE resources SET spec = '{"storageGb": 1}', generation = 2 WHERE id = $1`, [ids[0]]);
    const page = asPage(await readEvents(db, signer, { cell: 'cell-1', afterSequence: 2, limit: 3 }));
    expect(page.events.map((e) => e.event.sequence)).toEqual([3, 4, 5]);
    expect(page.currentSequence).toBe(6);
    expect(page.epoch).toMatch(/^[0-9a-f]{8}$/);
    for (const signed of page.events) {
      expect(verifySignedEvent(signed, keys, { epoch: page.epoch! }).outcome).toBe('ok');
    }
    // every event carries, signed, the epoch of the history it belongs to: the snapshot's
    expect((await readSnapshot(db, 'cell-1')).epoch).toBe(page.epoch);
    expect(verifySignedEvent(page.events[0], keys, { epoch: 'ffffffff' }).outcome).toBe('wrong_epoch');
    expect(page.events[0]!.event).toMatchObject({
      cell: 'cell-1',
      epoch: page.epoch,
      type: 'resource.created',
      resourceId: ids[2],
      orgId,
      generation: 1,
      desired: { kind: 'database', name: 'page-2', cell: 'cell-1', phase: 'active', orgId },
      traceparent: null,
      emittedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    const tail = asPage(await readEvents(db, signer, { cell: 'cell-1', afterSequence: 6 }));
    expect(tail.events).toEqual([]);
    // a cell that never had an event is simply empty at sequence 0
    expect(await readEvents(db, signer, { cell: 'cell-9', afterSequence: 0 })).toMatchObject({
      kind: 'events',
      events: [],
      currentSequence: 0,
    });
    await expect(readEvents(db, signer, { cell: 'cell-1', afterSequence: -1 })).rejects.toThrow(
      /PW_BAD_CURSOR/,
    );
  });

  it('gives a snapshot equal to applying every event, whose ETag moves exactly with the sequence', async () => {
    const first = await readSnapshot(db, 'cell-1');
    expect(first.etag).toBe(`"${first.epoch}.${first.sequence}"`);
    expect(asMap(first)).toEqual((await follow(db, 'cell-1')).state);
    expect(await readCellHead(db, 'cell-1')).toEqual({
      cell: 'cell-1',
      sequence: first.sequence,
      epoch: first.epoch,
      etag: first.etag,
    });

    const [target] = first.resources;
    // an observed-status write and a change in another cell leave this cell's snapshot as it was
    await db.query(`UPDATE resources SET status = '{"up": true}', observed_generation = 1 WHERE id = $1`, [
      target!.resourceId,
    ]);
    await seedResource(db, orgId, 'cell-2');
    expect((await readSnapshot(db, 'cell-1')).etag).toBe(first.etag);

    await db.query(`UPDATE resources SET phase = 'suspended' WHERE id = $1`, [target!.resourceId]);
    const second = await readSnapshot(db, 'cell-1');
    expect(second.sequence).toBe(first.sequence + 1);
    expect(second.etag).not.toBe(first.etag);
    expect(asMap(second).get(target!.resourceId)?.phase).toBe('suspended');

    // deleted and moved-away resources leave the snapshot; the events say the same
    const moved = second.resources[1]!.resourceId;
    await db.query(`UPDATE resources SET cell_id = 'cell-2' WHERE id = $1`, [moved]);
    await db.query(`UPDATE resources SET phase = 'deleted', deleted_at = now() WHERE id = $1`, [
      second.resources[2]!.resourceId,
    ]);
    const third = await readSnapshot(db, 'cell-1');
    expect(third.resources).toHaveLength(second.resources.length - 2);
    expect(asMap(third)).toEqual((await follow(db, 'cell-1')).state);
    // an agent that hydrated from the second snapshot catches up with events alone
    expect((await follow(db, 'cell-1', second.sequence, asMap(second))).state).toEqual(asMap(third));
    expect(asMap(await readSnapshot(db, 'cell-2')).get(moved)?.cell).toBe('cell-2');
  });

  it('prunes old events but keeps the latest of each cell; a pruned cursor must take a snapshot', async () => {
    const before = await readSnapshot(db, 'cell-1');
    await db.query(`UPDATE outbox_events SET created_at = created_at - interval '2 days'`);
    const fresh = await seedResource(db, orgId, 'cell-1', 'fresh');
    const current = before.sequence + 1;

    // the fresh event is young; the old ones beyond the newest 2 per cell go
    expect(
      (await pruneOutbox(db, { keepMs: 86_400_000, keepPerCell: 2, batchSize: 2 })).deleted,
    ).toBeGreaterThan(0);
    const { rows } = await db.query<{ cell_id: string; sequences: number[] }>(
      `SELECT cell_id, array_agg(sequence::int ORDER BY sequence) AS sequences FROM outbox_events GROUP BY cell_id ORDER BY cell_id`,
    );
    expect(rows.find((row) => row.cell_id === 'cell-1')!.sequences).toEqual([current - 1, current]);

    expect(
      asPage(await readEvents(db, signer, { cell: 'cell-1', afterSequence: current - 2 })).events,
    ).toHaveLength(2);
    expect(await readEvents(db, signer, { cell: 'cell-1', afterSequence: current - 3 })).toMatchObject({
      kind: 'snapshot_required',
      reason: 'pruned',
      oldestSequence: current - 1,
      currentSequence: current,
    });
    expect(await readEvents(db, signer, { cell: 'cell-1', afterSequence: current + 5 })).toMatchObject({
      kind: 'snapshot_required',
      reason: 'ahead',
    });

    // everything old, and keepPerCell 1: only the latest stays, and the sequence continues after it
    await db.query(`UPDATE outbox_events SET created_at = created_at - interval '2 days'`);
    await pruneOutbox(db, { keepMs: 0, keepPerCell: 0 });
    const left = await db.query<{ cell_id: string; sequence: number }>(
      'SELECT cell_id, sequence::int FROM outbox_events ORDER BY cell_id',
    );
    expect(left.rows.find((row) => row.cell_id === 'cell-1')!.sequence).toBe(current);
    expect(left.rows).toHaveLength(2);
    expect(asPage(await readEvents(db, signer, { cell: 'cell-1', afterSequence: current })).events).toEqual(
      [],
    );
    await db.query(`UPDATE resources SET generation = 2, spec = '{"storageGb": 2}' WHERE id = $1`, [fresh]);
    const next = asPage(await readEvents(db, signer, { cell: 'cell-1', afterSequence: current }));
    expect(next.events.map((e) => e.event.sequence)).toEqual([current + 1]);
    expect((await readSnapshot(db, 'cell-1')).etag).toBe(`"${before.epoch}.${current + 1}"`);
  });
});
