// Outbox benchmark: events written per second through the change-capture trigger (one and two
// cells, four concurrent writers, against the same writes with the triggers off), once with
// one-statement transactions and once with transactions that stay open 2 ms after the change (as an
// API request that goes on to write a flow and an audit row does: the cell's counter stays locked),
// and the latency of reading 100 signed events (signature cache cold and warm) and of a snapshot.
// Prints JSON. Usage: node bench/outbox.ts [--seconds 3] [--reads 200] [--resources 200]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  createEventSigner,
  createPool,
  type Db,
  generateEventSigningKey,
  migrate,
  readEvents,
  readSnapshot,
} from '../control-plane/index.ts';
import { seedOrg, seedResource } from '../control-plane/src/dataplane/testing.ts';
import { createEmptyDatabase, startPostgres } from '../harness/env/index.ts';
import { round, summarize } from './support.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    reads: { type: 'string', default: '200' },
    resources: { type: 'string', default: '200' },
  },
});
const seconds = Number(values.seconds);
const readCount = Number(values.reads);
const resourcesPerCell = Number(values.resources);
const writers = 4;

await using postgres = await startPostgres();

/** Four writers, each updating its own resources' spec, one change per transaction, until time is up. */
async function writeRate(db: Db, cells: string[], captured: boolean, holdMs: number) {
  await db.query(`ALTER TABLE resources ${captured ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM resources WHERE cell_id = ANY($1) ORDER BY created_at, id',
    [cells],
  );
  const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      // resources alternate cells, so with two cells every writer writes to both
      const mine = rows.filter((_, i) => i % writers === writer).map((row) => row.id);
      const client = await db.connect();
      let done = 0;
      try {
        while (performance.now() < deadline) {
          if (holdMs) await client.query('BEGIN');
          await client.query(
            `UPDATE resources SET spec = jsonb_set(spec, '{storageGb}', to_jsonb($2::int)),
                    generation = generation + 1 WHERE id = $1`,
            [mine[done % mine.length], (done % 1000) + 1],
          );
          if (holdMs) await client.query(`SELECT pg_sleep(${holdMs / 1000}); COMMIT`);
          done += 1;
        }
      } finally {
        client.release();
      }
      return done;
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_events');
  const updates = counts.reduce((sum, n) => sum + n, 0);
  await db.query('ALTER TABLE resources ENABLE TRIGGER USER');
  return {
    cells: cells.length,
    writers,
    capture: captured,
    holdMs,
    updates,
    events: after.rows[0]!.n - before.rows[0]!.n,
    perSecond: Math.round(updates / elapsedS),
  };
}

/** readEvents of 100 events at random cursors: with a fresh signer per read (cold) and a shared one (warm). */
async function readLatency(db: Db, cell: string) {
  const { rows } = await db.query<{ last: number }>(
    'SELECT last_sequence AS last FROM outbox_cells WHERE cell_id = $1',
    [cell],
  );
  const last = Number(rows[0]!.last);
  const key = generateEventSigningKey().privateKey;
  const uncached = createEventSigner(key, { cacheSize: 0 });
  const cached = createEventSigner(key, { cacheSize: 100_000 });
  const cursors = Array.from({ length: readCount }, (_, i) => (i * 7919) % Math.max(1, last - 100));
  const measure = async (signer: typeof cached) => {
    const times: number[] = [];
    for (const afterSequence of cursors) {
      const started = performance.now();
      const page = await readEvents(db, signer, { cell, afterSequence, limit: 100 });
      times.push(performance.now() - started);
      if (page.kind !== 'events' || page.events.length !== 100) throw new Error('expected 100 events');
    }
    return summarize(times);
  };
  const cold = await measure(uncached);
  for (const afterSequence of cursors) await readEvents(db, cached, { cell, afterSequence, limit: 100 });
  const warm = await measure(cached);
  const snapshotTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await readSnapshot(db, cell);
    snapshotTimes.push(performance.now() - started);
  }
  return {
    events: 100,
    coldSignaturesMs: cold,
    cachedSignaturesMs: warm,
    snapshot: { resources: resourcesPerCell, ...summarize(snapshotTimes) },
  };
}

const url = await createEmptyDatabase(postgres, 'bench_outbox');
await migrate(url);
const db = createPool(url, writers + 2);
try {
  const orgId = await seedOrg(db, ['cell-1', 'cell-2', 'cell-3']);
  for (let i = 0; i < resourcesPerCell; i++) {
    await seedResource(db, orgId, 'cell-1', `a-${i}`);
    await seedResource(db, orgId, 'cell-2', `b-${i}`);
    await seedResource(db, orgId, 'cell-3', `c-${i}`);
  }
  const runs: Array<Awaited<ReturnType<typeof writeRate>>> = [];
  for (const holdMs of [0, 2]) {
    for (const captured of [false, true]) {
      runs.push(await writeRate(db, ['cell-1'], captured, holdMs));
      runs.push(await writeRate(db, ['cell-2', 'cell-3'], captured, holdMs));
    }
  }
  const rate = (cells: number, capture: boolean, holdMs: number) =>
    runs.find((run) => run.cells === cells && run.capture === capture && run.holdMs === holdMs)!.perSecond;
  const cost = (cells: number, holdMs: number) =>
    round((1 - rate(cells, true, holdMs) / rate(cells, false, holdMs)) * 100);
  console.log(
    JSON.stringify(
      {
        benchmark: 'outbox',
        node: process.version,
        cpus: availableParallelism(),
        postgres: postgres.embedded ? 'embedded (fsync=off, synchronous_commit=off)' : 'DATABASE_URL',
        secondsPerRun: seconds,
        writes: runs,
        captureCostPercent: {
          oneStatement: { oneCell: cost(1, 0), twoCells: cost(2, 0) },
          held2ms: { oneCell: cost(1, 2), twoCells: cost(2, 2) },
        },
        readEvents: await readLatency(db, 'cell-1'),
      },
      null,
      2,
    ),
  );
} finally {
  await db.end();
}
