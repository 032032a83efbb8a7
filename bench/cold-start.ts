// Cold start: how long from nothing to a control plane answering /readyz. Each run starts an
// embedded Postgres (or uses DATABASE_URL), creates and migrates a database, then starts the
// control plane as a child process, exactly as `planewright up` does. The embedded server's
// data folder is measured in the temporary folder and, where there is one, on /dev/shm (tmpfs):
// on slow virtual disks file creation dominates. Prints JSON.
//   node bench/cold-start.ts [--runs 5]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { migrate } from '../control-plane/index.ts';
import {
  createEmptyDatabase,
  dropDatabase,
  startControlPlaneProcess,
  startPostgres,
} from '../harness/env/index.ts';
import { dataFolders, percentile, round } from './support.ts';

const targetMs = 3_000;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runCount = Number(values.runs);

async function coldStart(run: number, dataParent: string) {
  const started = performance.now();
  const postgres = await startPostgres({ dataParent });
  const postgresReady = performance.now();
  const name = `bench_cold_${run}`;
  const databaseUrl = await createEmptyDatabase(postgres, name);
  await migrate(databaseUrl);
  const migrated = performance.now();
  const controlPlane = await startControlPlaneProcess({
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      DATABASE_URL: databaseUrl,
      // never fetched: no request carries a token
      AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      AUTH_ISSUER: 'http://127.0.0.1:9/',
      AUTH_AUDIENCE: 'planewright',
      SECRETS_KEK: randomBytes(32).toString('base64'),
      EVENT_SIGNING_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
      LOG_LEVEL: 'warn',
    },
  });
  const ready = performance.now();
  await controlPlane.stop();
  if (!postgres.embedded) await dropDatabase(postgres, name);
  await postgres.stop();
  return {
    postgresMs: round(postgresReady - started),
    migrateMs: round(migrated - postgresReady),
    controlPlaneMs: round(ready - migrated),
    totalMs: round(ready - started),
  };
}

type Run = Awaited<ReturnType<typeof coldStart>>;
const phases = ['postgresMs', 'migrateMs', 'controlPlaneMs', 'totalMs'] as const;

/** Runs with the embedded server's data under `folder`. */
async function measure(folder: string) {
  const runs: Run[] = [];
  for (let run = 0; run < runCount; run++) runs.push(await coldStart(run, folder));
  const medians = Object.fromEntries(
    phases.map((phase) => [
      phase,
      round(
        percentile(
          runs.map((run) => run[phase]),
          50,
        ),
      ),
    ]),
  ) as Record<(typeof phases)[number], number>;
  return { median: medians, meetsTarget: medians.totalMs < targetMs, runs };
}

const folders = dataFolders();
const byDataFolder: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const folder of folders) byDataFolder[folder] = await measure(folder);

console.log(
  JSON.stringify(
    {
      benchmark: 'cold-start',
      description:
        'Postgres up, database created and migrated, control plane (child process) ready on /readyz',
      postgres: process.env.DATABASE_URL ? 'external (DATABASE_URL)' : 'embedded',
      node: process.version,
      runsPerFolder: runCount,
      targetMs,
      byDataFolder,
    },
    null,
    2,
  ),
);
