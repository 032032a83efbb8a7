// Flow engine benchmark: throughput of a three-step flow whose steps do nothing, with one and two
// control-plane processes on one database, and the step-to-step hand-off latency at low load.
// Prints JSON. Usage: node bench/flow-engine.ts [--flows 2000] [--sequential 100]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../control-plane/index.ts';
import { apiClient, startTestAuth, testAdminToken, testEnv } from '../control-plane/test/support.ts';
import { createEmptyDatabase, startControlPlaneProcess, startPostgres } from '../harness/env/index.ts';
import { percentile, round } from './support.ts';

const { values } = parseArgs({
  options: { flows: { type: 'string', default: '2000' }, sequential: { type: 'string', default: '100' } },
});
const flowCount = Number(values.flows);
const sequentialCount = Number(values.sequential);

await using postgres = await startPostgres();
const auth = await startTestAuth();

async function throughput(processes: number) {
  const url = await createEmptyDatabase(postgres, `bench_flows_${processes}`);
  await migrate(url);
  const env = testEnv(url, auth, { LOG_LEVEL: 'warn', FLOW_CONCURRENCY: '16', FLOW_SWEEP_MS: '1000' });
  const workers = await Promise.all(
    Array.from({ length: processes }, () => startControlPlaneProcess({ env })),
  );
  const db = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const admin = apiClient(workers[0]!.url, testAdminToken);
    // created in batches while no worker is told to start: measure from the first flow to the last
    const started = performance.now();
    for (let made = 0; made < flowCount; made += 500) {
      const response = await admin.post('/v1/admin/diagnostics/flows', {
        count: Math.min(500, flowCount - made),
        effects: false,
      });
      if (response.status !== 202) throw new Error(JSON.stringify(response.body));
    }
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM flows WHERE state = 'succeeded'`,
      );
      if (rows[0]!.n >= flowCount) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      processes,
      flows: flowCount,
      seconds: round(seconds),
      flowsPerSecond: round(flowCount / seconds),
      stepsPerSecond: round((3 * flowCount) / seconds),
    };
  } finally {
    await db.end();
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

async function handoff() {
  const url = await createEmptyDatabase(postgres, 'bench_handoff');
  await migrate(url);
  const worker = await startControlPlaneProcess({
    env: testEnv(url, auth, { LOG_LEVEL: 'warn', FLOW_SWEEP_MS: '1000' }),
  });
  const db = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const admin = apiClient(worker.url, testAdminToken);
    const startToFirstStep: number[] = [];
    for (let i = 0; i < sequentialCount; i++) {
      const response = await admin.post('/v1/admin/diagnostics/flows', { count: 1, effects: false });
      const id = response.body.flowIds[0];
      for (;;) {
        const { rows } = await db.query(`SELECT state FROM flows WHERE id = $1`, [id]);
        if (rows[0].state === 'succeeded') break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const { rows } = await db.query<{ ms: number }>(
        `SELECT EXTRACT(EPOCH FROM (min(s.started_at) - f.created_at)) * 1000 AS ms
           FROM flows f JOIN flow_steps s ON s.flow_id = f.id WHERE f.id = $1 GROUP BY f.created_at`,
        [id],
      );
      startToFirstStep.push(Number(rows[0]!.ms));
    }
    // hand-off: from the end of one step to the start of the next, in the database's own clock
    const { rows } = await db.query<{ ms: number }>(
      `SELECT EXTRACT(EPOCH FROM (next.started_at - prev.ended_at)) * 1000 AS ms
         FROM flow_steps prev JOIN flow_steps next ON next.flow_id = prev.flow_id AND next.id = (
           SELECT min(id) FROM flow_steps x WHERE x.flow_id = prev.flow_id AND x.id > prev.id)`,
    );
    const handoffs = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const starts = startToFirstStep.sort((a, b) => a - b);
    return {
      flows: sequentialCount,
      handoffMs: {
        samples: handoffs.length,
        p50: round(percentile(handoffs, 50)),
        p99: round(percentile(handoffs, 99)),
        max: round(handoffs.at(-1)!),
      },
      startToFirstStepMs: { p50: round(percentile(starts, 50)), p99: round(percentile(starts, 99)) },
    };
  } finally {
    await db.end();
    await worker.stop();
  }
}

const result = {
  benchmark: 'flow-engine',
  node: process.version,
  cpus: (await import('node:os')).availableParallelism(),
  lowLoad: await handoff(),
  throughput: [await throughput(1), await throughput(2)],
};
await auth.close();
console.log(JSON.stringify(result, null, 2));
