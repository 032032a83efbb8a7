// `planewright slo check <run folder>` (issue 6, item 9): every SLO evaluated over the run's
// traces (traces/*.jsonl), as a table with observed values and pass or fail; exit 1 when one
// failed or saw no data. `planewright run` does the same at its end when it finds an SLO file.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PlanewrightError } from '../errors.ts';
import {
  checkSlos,
  formatSloTable,
  loadOtlpJsonl,
  loadSlos,
  type SloResult,
  sloExitCode,
  TraceStore,
} from '../traces/index.ts';

/**
 * The SLO files a run uses: the one given, else the scenario folder's `slos.yaml` (or `.json`) and
 * every file in its `slos/` folder (one per flow, say).
 */
export function findSloFiles(given: string | undefined, scenarioDir: string, cwd: string): string[] {
  if (given) return [resolve(cwd, given)];
  const top = ['slos.yaml', 'slos.yml', 'slos.json']
    .map((name) => join(scenarioDir, name))
    .filter((path) => existsSync(path));
  const folder = join(scenarioDir, 'slos');
  const more = existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => /\.(ya?ml|json)$/.test(name))
        .sort()
        .map((name) => join(folder, name))
    : [];
  return [...top, ...more];
}

/** Evaluates the SLOs over every span the run recorded; writes slo.json and slo.txt into the run folder. */
export async function evaluateRunSlos(
  runDir: string,
  sloFiles: string[],
): Promise<{ results: SloResult[]; table: string }> {
  const slos = (await Promise.all(sloFiles.map((file) => loadSlos(file)))).flat();
  const store = new TraceStore({ maxSpans: 5_000_000 });
  const tracesDir = join(runDir, 'traces');
  if (existsSync(tracesDir))
    for (const file of readdirSync(tracesDir).filter((name) => name.endsWith('.jsonl')))
      await loadOtlpJsonl(join(tracesDir, file), store);
  const results = checkSlos(store, slos);
  const table = formatSloTable(results);
  writeFileSync(
    join(runDir, 'slo.json'),
    `${JSON.stringify({ sloFiles, spans: store.stats(), results }, null, 2)}\n`,
  );
  writeFileSync(join(runDir, 'slo.txt'), table.endsWith('\n') ? table : `${table}\n`);
  return { results, table };
}

export async function sloCheck(options: {
  runDir: string;
  slos?: string;
  cwd: string;
  stdout: NodeJS.WritableStream;
}): Promise<number> {
  const runDir = resolve(options.cwd, options.runDir);
  const manifestPath = join(runDir, 'run.json');
  if (!existsSync(manifestPath))
    throw new PlanewrightError(
      'PW_SLO_NO_RUN',
      `${manifestPath} does not exist`,
      'pass a run folder written by `planewright run`',
    );
  const { dir } = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dir: string };
  const sloFiles = findSloFiles(options.slos, dir, options.cwd);
  if (sloFiles.length === 0)
    throw new PlanewrightError(
      'PW_SLO_NO_FILE',
      `no SLO file: none given and none in ${dir} (slos.yaml, slos.json)`,
      'pass --slos FILE (see docs/traces.md for the format)',
    );
  const { results, table } = await evaluateRunSlos(runDir, sloFiles);
  options.stdout.write(table.endsWith('\n') ? table : `${table}\n`);
  return sloExitCode(results);
}
