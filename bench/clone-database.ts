// Cloning a test database from the migrated template (`CREATE DATABASE … TEMPLATE …`), as every
// test file does, with both of Postgres's strategies: WAL_LOG (the default since Postgres 15,
// copies block by block through the WAL) and FILE_COPY (copies the files, with a checkpoint).
// Measured with the embedded server's data in the temporary folder and, where there is one, on
// /dev/shm (tmpfs). Prints JSON.   node bench/clone-database.ts [--runs 20]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../control-plane/index.ts';
import { createEmptyDatabase, dropDatabase, startPostgres } from '../harness/env/index.ts';
import { dataFolders, summarize } from './support.ts';

const targetMs = 150;
const strategies = ['WAL_LOG', 'FILE_COPY'] as const;
const template = 'bench_clone_template';
const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runCount = Number(values.runs);

/** Every strategy, and what one test file pays, on a server whose data is under `folder`. */
async function measure(folder: string) {
  const postgres = await startPostgres({ dataParent: folder });
  try {
    await migrate(await createEmptyDatabase(postgres, template));
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    const results: Record<string, ReturnType<typeof summarize>> = {};
    let version = '';
    try {
      version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!
        .server_version;
      for (const strategy of strategies) {
        const timesMs: number[] = [];
        for (let run = 0; run < runCount; run++) {
          const name = `bench_clone_${strategy.toLowerCase()}_${run}`;
          await admin.query(`DROP DATABASE IF EXISTS ${name}`);
          const started = performance.now();
          await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY ${strategy}`);
          timesMs.push(performance.now() - started);
          await admin.query(`DROP DATABASE ${name}`);
        }
        results[strategy] = summarize(timesMs);
      }
      // what a test file pays in createTestDatabase(): a connection, the default strategy, disconnect
      const perFileMs: number[] = [];
      for (let run = 0; run < runCount; run++) {
        const name = `bench_clone_per_file_${run}`;
        const started = performance.now();
        const client = new pg.Client({ connectionString: postgres.adminUrl });
        await client.connect();
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        await client.end();
        perFileMs.push(performance.now() - started);
        await admin.query(`DROP DATABASE ${name}`);
      }
      results.perTestFile = summarize(perFileMs);
    } finally {
      await admin.end();
    }
    const fastest = strategies.reduce((best, each) =>
      results[each]!.medianMs < results[best]!.medianMs ? each : best,
    );
    return {
      postgres: `${postgres.embedded ? 'embedded' : 'external (DATABASE_URL)'} ${version}`,
      ...results,
      fastest,
      meetsTarget: Object.fromEntries(strategies.map((each) => [each, results[each]!.p90Ms < targetMs])),
    };
  } finally {
    // on DATABASE_URL's server, leave nothing behind
    if (!postgres.embedded) await dropDatabase(postgres, template);
    await postgres.stop();
  }
}

const folders = dataFolders();
const byDataFolder: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const folder of folders) byDataFolder[folder] = await measure(folder);

console.log(
  JSON.stringify(
    {
      benchmark: 'clone-database',
      description: 'CREATE DATABASE … TEMPLATE <migrated template>, one open admin connection',
      runs: runCount,
      targetMs,
      byDataFolder,
    },
    null,
    2,
  ),
);
