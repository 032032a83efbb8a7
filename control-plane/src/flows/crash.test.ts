// A real control-plane process is SIGKILLed in the middle of flow steps and restarted: every flow
// must complete, and no effect may happen twice.
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../../../harness/env/index.ts';
import {
  apiClient,
  createTestDatabase,
  startTestAuth,
  type TestAuth,
  testAdminToken,
  testEnv,
} from '../../test/support.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let auth: TestAuth;
let db: pg.Pool;
let cp: ControlPlaneProcess;
let receiver: Server;
const notified = new Map<string, number>();

beforeAll(async () => {
  database = await createTestDatabase();
  auth = await startTestAuth();
  db = new pg.Pool({ connectionString: database.url });
  // stands in for a vendor: counts each idempotency key it is sent
  receiver = createServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    notified.set(key, (notified.get(key) ?? 0) + 1);
    req.resume();
    res.end('{}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  cp = await startControlPlaneProcess({
    env: testEnv(database.url, auth, { FLOW_LEASE_MS: '600', FLOW_SWEEP_MS: '100', LOG_LEVEL: 'warn' }),
  });
});
afterAll(async () => {
  await cp?.stop();
  await db?.end();
  await new Promise((resolve) => receiver?.close(resolve));
  await auth?.close();
  await database?.drop();
});

async function waitAllFinished(ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM flows WHERE id = ANY($1::uuid[]) GROUP BY state',
      [ids],
    );
    const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const finished = (states.succeeded ?? 0) + (states.failed ?? 0) + (states.cancelled ?? 0);
    if (finished === ids.length || Date.now() > deadline) return states;
    await sleep(100);
  }
}

describe('crash in the middle of a flow step', () => {
  it('resumes every flow after SIGKILLs and repeats no effect', async () => {
    const receiverPort = (receiver.address() as { port: number }).port;
    const admin = apiClient(cp.url, testAdminToken);
    const started = await admin.post('/v1/admin/diagnostics/flows', {
      count: 30,
      stepDelayMs: 40,
      notifyUrl: `http://127.0.0.1:${receiverPort}/notify`,
    });
    expect(started.status).toBe(202);
    const ids: string[] = started.body.flowIds;

    for (let kill = 0; kill < 4; kill++) {
      await sleep(80 + Math.floor(Math.random() * 250));
      expect((await cp.kill('SIGKILL')).signal).toBe('SIGKILL');
      await cp.restart();
    }
    expect(await waitAllFinished(ids, 60_000)).toEqual({ succeeded: 30 });

    const abandoned = await db.query(
      `SELECT count(*)::int AS n FROM flow_steps WHERE flow_id = ANY($1::uuid[]) AND outcome = 'abandoned'`,
      [ids],
    );
    // the kills did land inside steps, or this test proves nothing
    expect(abandoned.rows[0].n).toBeGreaterThan(0);
    const effects = await db.query(
      `SELECT count(*)::int AS total, count(DISTINCT (flow_id, step))::int AS distinct_effects
         FROM diagnostic_effects WHERE flow_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(effects.rows[0]).toEqual({ total: 90, distinct_effects: 90 });
    // the external effect was retried with the same idempotency key: one key per (flow, step), never more
    const expectedKeys = ids.flatMap((id) =>
      ['effect-1', 'effect-2', 'effect-3'].map((step) => `${id}:${step}:notify`),
    );
    expect([...notified.keys()].sort()).toEqual(expectedKeys.sort());
  });

  it('completes delete-user flows interrupted by a SIGKILL, with one audit entry each', async () => {
    const owner = apiClient(
      cp.url,
      await auth.token({ sub: 'auth0|crash-owner', email: 'owner@example.test' }),
    );
    const org = await owner.post('/v1/orgs', { name: 'Crash', slug: 'crash-org' });
    const tokens = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        auth.token({ sub: `auth0|crash-${i}`, email: `crash-${i}@example.test` }),
      ),
    );
    for (const token of tokens) await apiClient(cp.url, token).get('/v1/users/me');
    await db.query(
      `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM users WHERE subject LIKE 'auth0|crash-%' AND subject <> 'auth0|crash-owner'`,
      [org.body.id],
    );
    const deletions = await Promise.all(
      tokens.map((token) => apiClient(cp.url, token).delete('/v1/users/me')),
    );
    expect(deletions.map((d) => d.status)).toEqual(tokens.map(() => 202));
    await cp.kill('SIGKILL');
    await cp.restart();
    const ids = deletions.map((d) => d.body.flowId as string);
    expect(await waitAllFinished(ids, 30_000)).toEqual({ succeeded: 12 });
    const audit = await db.query(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE actor_type = 'flow' AND action IN ('member.deleted', 'user.deleted') GROUP BY action ORDER BY action`,
    );
    expect(audit.rows).toEqual([
      { action: 'member.deleted', n: 12 },
      { action: 'user.deleted', n: 12 },
    ]);
  });
});
