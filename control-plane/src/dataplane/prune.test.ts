// The control plane prunes its outbox on its own, on the interval its configuration sets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../test/support.ts';
import { readEvents } from './feed.ts';
import { outboxRows, seedOrg, seedResource } from './testing.ts';

describe('outbox pruning in the running control plane', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane({
      OUTBOX_PRUNE_MS: '50',
      OUTBOX_RETENTION_MS: '1',
      OUTBOX_KEEP_PER_CELL: '2',
      FLOW_WORKER_ENABLED: 'false',
    });
  });
  afterAll(() => cp?.close());

  it('keeps only the newest events of each cell once they are older than the retention', async () => {
    const orgId = await seedOrg(cp.deps.db);
    for (let i = 0; i < 6; i++) await seedResource(cp.deps.db, orgId, i % 3 ? 'cell-1' : 'cell-2');
    const deadline = Date.now() + 5_000;
    let sequences: Record<string, number[]> = {};
    while (Date.now() < deadline) {
      sequences = {};
      for (const row of await outboxRows(cp.deps.db)) {
        sequences[row.cell_id] = [...(sequences[row.cell_id] ?? []), row.sequence];
      }
      if (sequences['cell-1']?.length === 2 && sequences['cell-2']?.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(sequences).toEqual({ 'cell-1': [3, 4], 'cell-2': [1, 2] });
    expect(await readEvents(cp.deps.db, cp.eventSigner, { cell: 'cell-1', afterSequence: 1 })).toMatchObject({
      kind: 'snapshot_required',
      reason: 'pruned',
    });
  });
});

describe('pruning removes only a prefix of each cell', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane({ OUTBOX_PRUNE_MS: '0', FLOW_WORKER_ENABLED: 'false' });
  });
  afterAll(() => cp?.close());

  it('never leaves a hole, even when created_at went backwards with the clock', async () => {
    const orgId = await seedOrg(cp.deps.db);
    for (let i = 0; i < 6; i++) await seedResource(cp.deps.db, orgId, 'cell-1');
    // events 1, 2, 4 and 5 look old; event 3 looks young (the clock stepped back when it was written)
    await cp.deps.db.query(
      `UPDATE outbox_events SET created_at = CASE WHEN sequence = 3 THEN now() ELSE now() - interval '2 days' END
        WHERE cell_id = 'cell-1'`,
    );
    const { pruneOutbox } = await import('./prune.ts');
    await pruneOutbox(cp.deps.db, { keepMs: 86_400_000, keepPerCell: 1, batchSize: 1 });
    const left = (await outboxRows(cp.deps.db))
      .filter((row) => row.cell_id === 'cell-1')
      .map((row) => row.sequence);
    expect(left).toEqual([3, 4, 5, 6]);
    const read = await readEvents(cp.deps.db, cp.eventSigner, { cell: 'cell-1', afterSequence: 2 });
    expect(read.kind === 'events' && read.events.map((e) => e.event.sequence)).toEqual([3, 4, 5, 6]);
  });
});
