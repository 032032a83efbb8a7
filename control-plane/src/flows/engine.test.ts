import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support.ts';
import { createPool, type Db, withTransaction } from '../db/pool.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { defineFlow, type FlowDefinition, PermanentStepError } from './definition.ts';
import { FlowEngine } from './engine.ts';
import { signalFlows, startFlow } from './start.ts';

let database: { url: string; drop(): Promise<void> };
let db: Db;
const engines: FlowEngine[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPool(database.url, 20);
});
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.stop(1000)));
  await db?.end();
  await database?.drop();
});

function engine(
  definitions: FlowDefinition<never>[],
  options: { concurrency?: number; maxAttempts?: number } = {},
) {
  const created = new FlowEngine({
    db,
    databaseUrl: database.url,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    definitions,
    concurrency: options.concurrency ?? 8,
    leaseMs: 5_000,
    maxAttempts: options.maxAttempts ?? 3,
    retryBaseMs: 10,
    retryMaxMs: 50,
    sweepMs: 250,
  });
  engines.push(created);
  return created;
}

async function start(type: string, context: Record<string, unknown> = {}) {
  return (await startFlow(db, { type, context })).id;
}

async function steps(flowId: string) {
  const { rows } = await db.query(
    'SELECT step, attempt, outcome, error FROM flow_steps WHERE flow_id = $1 ORDER BY id',
    [flowId],
  );
  return rows;
}

describe('flow engine', () => {
  it('runs every step in order, merges context and records each attempt', async () => {
    const flow = defineFlow<{ trail: string[] }>({
      type: 'three-steps',
      steps: ['a', 'b', 'c'].map((name) => ({
        name,
        run: async ({ context }) => ({ context: { trail: [...(context.trail ?? []), name] } }),
      })),
    });
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    const id = await start('three-steps');
    expect(await e.waitForCompletion(id, 5000)).toEqual({ state: 'succeeded', lastError: null });
    const { rows } = await db.query('SELECT context, completed_at FROM flows WHERE id = $1', [id]);
    expect(rows[0].context.trail).toEqual(['a', 'b', 'c']);
    expect(await steps(id)).toEqual(
      ['a', 'b', 'c'].map((step) => ({ step, attempt: 1, outcome: 'succeeded', error: null })),
    );
    await e.stop();
  });

  it('retries a failing step with backoff, then parks the flow in failed with the reason', async () => {
    let calls = 0;
    const flaky = defineFlow({
      type: 'flaky',
      steps: [
        {
          name: 'call',
          run: async () => {
            if (calls++ < 1) throw new Error('vendor timeout');
          },
        },
      ],
    });
    const broken = defineFlow({
      type: 'broken',
      steps: [{ name: 'call', run: async () => Promise.reject(new Error('always down')) }],
    });
    const e = engine([flaky, broken] as FlowDefinition<never>[]);
    await e.start();
    const ok = await start('flaky');
    const bad = await start('broken');
    expect(await e.waitForCompletion(ok, 5000)).toMatchObject({ state: 'succeeded' });
    expect((await steps(ok)).map((s) => s.outcome)).toEqual(['failed', 'succeeded']);
    const failed = await e.waitForCompletion(bad, 5000);
    expect(failed).toEqual({ state: 'failed', lastError: 'step call failed: always down' });
    expect(await steps(bad)).toHaveLength(3);
    await e.stop();
  });

  it('fails at once on a permanent error', async () => {
    const flow = defineFlow({
      type: 'permanent',
      steps: [
        {
          name: 'validate',
          run: async () => Promise.reject(new PermanentStepError('card number is invalid')),
        },
      ],
    });
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    const id = await start('permanent');
    expect(await e.waitForCompletion(id, 5000)).toEqual({
      state: 'failed',
      lastError: 'step validate failed: card number is invalid',
    });
    expect(await steps(id)).toHaveLength(1);
    await e.stop();
  });

  it('waits for a signal, and for a timer read from the movable clock', async () => {
    const flow = defineFlow<{ deadline?: string }>({
      type: 'waiter',
      steps: [
        {
          name: 'await-signal',
          async run({ db: q, flowId }) {
            const { rows } = await q.query('SELECT 1 FROM flow_effects WHERE key = $1', [`go:${flowId}`]);
            return rows[0] ? undefined : { wait: { signal: `go:${flowId}` } };
          },
        },
        {
          name: 'grace-period',
          async run({ context, now }) {
            const deadline = context.deadline
              ? new Date(context.deadline)
              : new Date((await now()).getTime() + 3_600_000);
            if ((await now()) >= deadline) return;
            return { context: { deadline: deadline.toISOString() }, wait: { until: deadline } };
          },
        },
      ],
    });
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    const id = await start('waiter');
    await sleep(300);
    expect((await db.query('SELECT state, wait_for FROM flows WHERE id = $1', [id])).rows[0]).toEqual({
      state: 'waiting',
      wait_for: `go:${id}`,
    });
    await db.query(`INSERT INTO flow_effects (key, flow_id, step) VALUES ($1, $2, 'test')`, [`go:${id}`, id]);
    expect(await withTransaction(db, (tx) => signalFlows(tx, `go:${id}`))).toBe(1);
    await sleep(300);
    expect((await db.query('SELECT state, current_step FROM flows WHERE id = $1', [id])).rows[0]).toEqual({
      state: 'waiting',
      current_step: 'grace-period',
    });
    // an hour of grace passes in an instant on the test clock
    await db.query('UPDATE clock SET offset_ms = offset_ms + 3600001');
    await db.query(`SELECT pg_notify('planewright_flows', 'clock')`);
    expect(await e.waitForCompletion(id, 5000)).toMatchObject({ state: 'succeeded' });
    await db.query('UPDATE clock SET offset_ms = 0');
    await e.stop();
  });

  it('does not sleep through a signal sent while the step that waits for it was running', async () => {
    let runs = 0;
    const flow = defineFlow({
      type: 'racer',
      steps: [
        {
          name: 'await-report',
          async run({ flowId }) {
            runs++;
            if (runs > 1) return;
            // the report arrives after the step looked for it, before the step's wait is committed
            await withTransaction(db, (tx) => signalFlows(tx, `report:${flowId}`));
            return { wait: { signal: `report:${flowId}` } };
          },
        },
      ],
    });
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    const id = await start('racer');
    expect(await e.waitForCompletion(id, 3000)).toMatchObject({ state: 'succeeded' });
    expect(runs).toBe(2);
    await e.stop();
  });

  it('sees a signal whose transaction began before the step and committed after its check', async () => {
    const flow = defineFlow({
      type: 'slow-signal',
      steps: [
        {
          name: 'await-row',
          async run({ db: q, flowId }) {
            const { rows } = await q.query('SELECT 1 FROM flow_effects WHERE key = $1', [`row:${flowId}`]);
            return rows[0] ? undefined : { wait: { signal: `row:${flowId}` } };
          },
        },
      ],
    });
    const id = await start('slow-signal');
    // the sender's transaction signals first, then takes its time before it commits
    const sender = await db.connect();
    await sender.query('BEGIN');
    await sender.query(`INSERT INTO flow_effects (key, flow_id, step) VALUES ($1, $2, 'test')`, [
      `row:${id}`,
      id,
    ]);
    await signalFlows(sender, `row:${id}`);
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    await sleep(300);
    await sender.query('COMMIT');
    sender.release();
    expect(await e.waitForCompletion(id, 3000)).toMatchObject({ state: 'succeeded' });
    await e.stop();
  });

  it('drops the result of a step whose flow was cancelled and retried meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: string[] = [];
    const flow = defineFlow({
      type: 'gated',
      steps: [
        {
          name: 'a',
          async run({ attempt }) {
            ran.push(`a${attempt}`);
            if (ran.length === 1) await gate;
          },
        },
        { name: 'b', run: async () => void ran.push('b') },
      ],
    });
    const e = engine([flow as FlowDefinition<never>]);
    await e.start();
    const id = await start('gated');
    await sleep(200);
    // what the admin API does: cancel, then retry, while the first attempt of `a` still runs
    await db.query(
      `UPDATE flows SET state = 'cancelled', lease_owner = NULL, lease_expires_at = NULL WHERE id = $1`,
      [id],
    );
    await db.query(`UPDATE flows SET state = 'pending', attempts = 0, next_run_at = now() WHERE id = $1`, [
      id,
    ]);
    await sleep(200);
    release();
    expect(await e.waitForCompletion(id, 3000)).toMatchObject({ state: 'succeeded' });
    // the first `a` ended while the flow was no longer its own: its result was dropped, `a` ran again
    expect(ran).toEqual(['a1', 'a1', 'b']);
    await e.stop();
  });

  it('counts an attempt whose worker died, so a step that always crashes ends in failed', async () => {
    const flow = defineFlow({ type: 'poison', steps: [{ name: 'crash', run: async () => {} }] });
    const { rows } = await db.query(
      `INSERT INTO flows (type, context, attempts) VALUES ('poison', '{}', 2) RETURNING id`,
    );
    const id = rows[0].id;
    // a worker died inside the step: its attempt never ended
    await db.query(
      `INSERT INTO flow_steps (flow_id, step, attempt, worker, started_at) VALUES ($1, 'crash', 3, 'dead', now())`,
      [id],
    );
    const e = engine([flow as FlowDefinition<never>], { maxAttempts: 3 });
    await e.start();
    expect(await e.waitForCompletion(id, 3000)).toEqual({
      state: 'failed',
      lastError: 'step crash did not complete in 3 attempts',
    });
    expect((await db.query('SELECT attempts FROM flows WHERE id = $1', [id])).rows[0].attempts).toBe(3);
    expect((await steps(id)).map((s) => s.outcome)).toEqual(['abandoned']);
    await e.stop();
  });

  it('starts a flow only if the transaction that causes it commits', async () => {
    await expect(
      withTransaction(db, async (tx) => {
        await startFlow(tx, { type: 'three-steps', context: { marker: 'rolled-back' } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM flows WHERE context->>'marker' = 'rolled-back'`,
    );
    expect(rows[0].n).toBe(0);
    const first = await startFlow(db, { type: 'three-steps', context: {}, dedupeKey: 'once' });
    const second = await startFlow(db, { type: 'three-steps', context: {}, dedupeKey: 'once' });
    expect(second).toEqual({ id: first.id, created: false });
  });

  it('shares one database between two engines without running a step twice at once', async () => {
    const running = new Set<string>();
    let overlaps = 0;
    const counted = defineFlow({
      type: 'counted',
      steps: ['one', 'two', 'three'].map((name) => ({
        name,
        async run({ flowId, step, once, worker }) {
          const key = `${flowId}:${step}`;
          if (running.has(key)) overlaps++;
          running.add(key);
          await sleep(Math.random() * 3);
          await once('effect', async (tx) => {
            await tx.query(
              `INSERT INTO diagnostic_effects (flow_id, step, idempotency_key, worker) VALUES ($1, $2, $3, $4)`,
              [flowId, step, key, worker],
            );
          });
          running.delete(key);
        },
      })),
    });
    const a = engine([counted as FlowDefinition<never>], { concurrency: 4 });
    const b = engine([counted as FlowDefinition<never>], { concurrency: 4 });
    const ids = await Promise.all(Array.from({ length: 120 }, () => start('counted')));
    await Promise.all([a.start(), b.start()]);
    const results = await Promise.all(ids.map((id) => a.waitForCompletion(id, 30_000)));
    expect(results.every((r) => r?.state === 'succeeded')).toBe(true);
    expect(overlaps).toBe(0);
    const effects = await db.query(
      `SELECT count(*)::int AS total, count(DISTINCT (flow_id, step))::int AS distinct_effects,
              count(DISTINCT worker)::int AS workers
         FROM diagnostic_effects WHERE flow_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(effects.rows[0]).toEqual({ total: 360, distinct_effects: 360, workers: 2 });
    await Promise.all([a.stop(), b.stop()]);
  });
});
