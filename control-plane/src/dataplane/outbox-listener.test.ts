// The wake-up path of long-polls: NOTIFY from the trigger at commit, one LISTEN connection, waiters
// per cell with a bounded wait, and a reconnect when the connection is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support.ts';
import { createPool, type Db, withTransaction } from '../db/pool.ts';
import { readCellHead } from './feed.ts';
import { OutboxListener } from './outbox-listener.ts';
import { seedOrg, seedResource } from './testing.ts';

const elapsed = async <T>(promise: Promise<T>) => {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
};

describe('OutboxListener', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let orgId: string;
  let listener: OutboxListener;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPool(database.url, 4);
    orgId = await seedOrg(db);
    listener = new OutboxListener({
      databaseUrl: database.url,
      maxWaitMs: 1_000,
      maxWaiters: 3,
      reconnectMs: 50,
    });
    await listener.start();
  });
  afterAll(async () => {
    await listener?.stop();
    await db?.end();
    await database?.drop();
  });

  it("wakes a cell's waiters when a change commits there, and no one else", async () => {
    const head = await readCellHead(db, 'cell-1');
    const mine = listener.waitFor('cell-1', head.sequence, 2_000);
    const other = listener.waitFor('cell-2', (await readCellHead(db, 'cell-2')).sequence, 300);
    expect(listener.waiting).toBe(2);
    const { ms } = await elapsed(Promise.all([seedResource(db, orgId, 'cell-1'), mine]));
    expect(await mine).toBe('changed');
    expect(ms).toBeLessThan(500);
    expect(await other).toBe('timeout');
    expect(listener.waiting).toBe(0);
  });

  it('never wakes on a rolled-back change, and returns at once for a sequence already announced', async () => {
    const head = await readCellHead(db, 'cell-1');
    const waiting = listener.waitFor('cell-1', head.sequence, 300);
    await withTransaction(db, async (tx) => {
      await seedResource(tx, orgId, 'cell-1');
      throw new Error('rolled back');
    }).catch(() => {});
    expect(await waiting).toBe('timeout');
    // announced before the wait began (the long-poll read, then the event landed, then it waited)
    await seedResource(db, orgId, 'cell-1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await elapsed(listener.waitFor('cell-1', head.sequence, 2_000))).ms).toBeLessThan(20);
  });

  it('bounds every wait and the number of waiters, and honours an abort', async () => {
    const head = await readCellHead(db, 'cell-2');
    const { value, ms } = await elapsed(listener.waitFor('cell-2', head.sequence + 100, 60_000));
    expect(value).toBe('timeout');
    expect(ms).toBeLessThan(1_500);

    const controller = new AbortController();
    const waits = [1, 2, 3].map(() => listener.waitFor('cell-2', head.sequence, 1_000, controller.signal));
    expect(await listener.waitFor('cell-2', head.sequence, 1_000)).toBe('overloaded');
    controller.abort();
    expect(await Promise.all(waits)).toEqual(['aborted', 'aborted', 'aborted']);
    expect(listener.waiting).toBe(0);
  });

  it('reconnects after losing its connection, waking waiters so they read the table again', async () => {
    const head = await readCellHead(db, 'cell-2');
    const waiting = listener.waitFor('cell-2', head.sequence + 100, 2_000);
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN planewright_outbox' AND datname = current_database()`,
    );
    expect(await waiting).toBe('changed');
    // listening again: the next commit wakes the next waiter
    const next = listener.waitFor('cell-2', head.sequence, 2_000);
    await seedResource(db, orgId, 'cell-2');
    expect(await next).toBe('changed');
  });

  it('lets every waiter go when stopped', async () => {
    const other = new OutboxListener({ databaseUrl: database.url });
    await other.start();
    const waiting = other.waitFor('cell-1', 1_000_000, 60_000);
    await other.stop();
    expect(await waiting).toBe('timeout');
    expect(await other.waitFor('cell-1', 0, 60_000)).toBe('timeout');
  });
});
