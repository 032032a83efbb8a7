// `planewright run` and `planewright replay` (issue 6, items 6 and 12): run the scenarios (vitest,
// with the project's config and global setup) under a seed and an optional fault schedule, and
// leave a run folder — run.json (seed, commit, options), the fault journals, results (JSON and
// JUnit), component logs — that `replay` re-runs with the same decisions, reporting any recorded
// fault that found no matching request.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decisionsByFingerprint } from '../../simulators/kit/index.ts';
import { PlanewrightError } from '../errors.ts';
import type { EnvironmentJournal } from '../faults/schedule.ts';
import { loadFaultSchedule } from '../faults/schedule.ts';
import { sloExitCode } from '../traces/index.ts';
import { evaluateRunSlos, findSloFiles } from './slo.ts';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunOptions {
  /** vitest file filters (substrings of the scenario files' paths). */
  filters: string[];
  seed?: number;
  /** A fault schedule file (.json, .yaml). */
  faults?: string;
  /** The run folder; default `runs/<id>` under `cwd`. */
  out?: string;
  /** Folder of scenario files (`*.test.ts`, `*.scenario.ts`); default `scenarios` of the project. */
  dir?: string;
  /** `junit`: also print the JUnit file's path (it is always written). */
  reporter?: 'default' | 'junit';
  /** Replays this run folder's journals. */
  replayOf?: string;
  /** SLOs checked over the run's traces at the end; default the scenario folder's slos.yaml. */
  slos?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface RunManifest {
  id: string;
  seed: number;
  commit: string | null;
  filters: string[];
  dir: string;
  faults: string | null;
  replayOf: string | null;
  startedAt: string;
  node: string;
}

/** Runs the scenarios; resolves with the exit code (0 only when every test passed, and a replay reproduced every fault). */
export async function run(options: RunOptions): Promise<number> {
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`;
  const runDir = resolve(options.cwd, options.out ?? join('runs', id));
  const dir = resolve(options.cwd, options.dir ?? join(projectRoot, 'scenarios'));
  if (!existsSync(dir))
    throw new PlanewrightError(
      'PW_RUN_NO_SCENARIOS',
      `there is no scenario folder ${dir}`,
      'pass --dir with a folder of *.test.ts files',
    );
  const seed = options.seed ?? randomBytes(4).readUInt32BE() % 2 ** 31;
  mkdirSync(join(runDir, 'journals'), { recursive: true });
  mkdirSync(join(runDir, 'logs'), { recursive: true });

  let faultsFile: string | null = null;
  if (options.faults) {
    // checked before anything starts, and kept with the run so a replay has it
    const schedule = loadFaultSchedule(resolve(options.cwd, options.faults));
    faultsFile = join(runDir, 'faults.json');
    writeFileSync(faultsFile, `${JSON.stringify(schedule, null, 2)}\n`);
  }
  const manifest: RunManifest = {
    id,
    seed,
    commit: gitCommit(),
    filters: options.filters,
    dir,
    faults: faultsFile,
    replayOf: options.replayOf ?? null,
    startedAt: new Date().toISOString(),
    node: process.version,
  };
  writeFileSync(join(runDir, 'run.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  options.stderr.write(
    `planewright: run ${id}, seed ${seed}${options.replayOf ? `, replaying ${options.replayOf}` : ''}\n`,
  );

  // the workers (forked by vitest) read these; the fixtures apply faults, replay and write journals
  const saved = { ...process.env };
  Object.assign(process.env, {
    PLANEWRIGHT_SEED: String(seed),
    PLANEWRIGHT_RUN_DIR: runDir,
    PLANEWRIGHT_SCENARIO_ROOT: dir,
  });
  if (faultsFile) process.env.PLANEWRIGHT_FAULTS = faultsFile;
  else delete process.env.PLANEWRIGHT_FAULTS;
  if (options.replayOf) process.env.PLANEWRIGHT_REPLAY_DIR = resolve(options.cwd, options.replayOf);
  else delete process.env.PLANEWRIGHT_REPLAY_DIR;

  let counts: { passed: number; failed: number; skipped: number };
  try {
    const { startVitest } = await import('vitest/node');
    const vitest = await startVitest(options.filters, {
      root: projectRoot,
      config: join(projectRoot, 'vitest.config.ts'),
      dir,
      include: ['**/*.{test,scenario}.ts'],
      run: true,
      watch: false,
      passWithNoTests: false,
      reporters: [
        'default',
        ['junit', { outputFile: join(runDir, 'junit.xml') }],
        ['json', { outputFile: join(runDir, 'results.json') }],
      ],
    });
    await vitest.close();
    counts = countResults(join(runDir, 'results.json'));
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }

  let slosOk = true;
  const sloFiles = findSloFiles(options.slos, dir, options.cwd);
  if (sloFiles.length > 0) {
    const { results, table } = await evaluateRunSlos(runDir, sloFiles);
    const named = sloFiles.map((file) => relative(options.cwd, file) || file).join(', ');
    options.stdout.write(`\nSLOs (${named}):\n${table}${table.endsWith('\n') ? '' : '\n'}`);
    slosOk = sloExitCode(results) === 0;
  }
  let replayOk = true;
  if (options.replayOf)
    replayOk = compareReplay(resolve(options.cwd, options.replayOf), runDir, options.stdout);
  const summary = {
    ...counts,
    runDir,
    slosMet: sloFiles.length > 0 ? slosOk : undefined,
    replayReproduced: options.replayOf ? replayOk : undefined,
  };
  writeFileSync(join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const shown = relative(options.cwd, runDir) || '.';
  options.stdout.write(`run folder: ${shown}\n`);
  if (options.reporter === 'junit') options.stdout.write(`junit: ${join(shown, 'junit.xml')}\n`);
  options.stdout.write(`${counts.passed} passed, ${counts.failed} failed\n`);
  return counts.failed === 0 && counts.passed > 0 && replayOk && slosOk ? 0 : 1;
}

function countResults(path: string) {
  if (!existsSync(path)) return { passed: 0, failed: 1, skipped: 0 };
  const results = JSON.parse(readFileSync(path, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string }[];
  };
  // a file that failed to load has no tests, but failed
  const brokenFiles = results.testResults.filter((file) => file.status === 'failed').length;
  return {
    passed: results.numPassedTests,
    failed: Math.max(results.numFailedTests, brokenFiles ? 1 : 0),
    skipped: results.numPendingTests + results.numTodoTests,
  };
}

/**
 * The replay's verdict: every recorded journal's decisions equal the replayed ones (by fingerprint
 * and occurrence), and no recorded fault went unclaimed. Prints what differs.
 */
function compareReplay(recordedDir: string, runDir: string, out: NodeJS.WritableStream): boolean {
  const files = readdirSync(join(recordedDir, 'journals')).filter(
    (name) => name.endsWith('.json') && !name.endsWith('.replay.json'),
  );
  let recordedFaults = 0;
  const problems: string[] = [];
  for (const file of files) {
    const recorded = JSON.parse(
      readFileSync(join(recordedDir, 'journals', file), 'utf8'),
    ) as EnvironmentJournal;
    const replayedPath = join(runDir, 'journals', file);
    if (!existsSync(replayedPath)) {
      problems.push(`${file}: the replay did not run this scenario file`);
      continue;
    }
    const replayed = JSON.parse(readFileSync(replayedPath, 'utf8')) as EnvironmentJournal;
    for (const [name, journal] of Object.entries(recorded.simulators)) {
      const faulted = journal.entries.filter((entry) => entry.fault !== null);
      recordedFaults += faulted.length;
      const before = JSON.stringify(decisionsByFingerprint(faulted));
      const again = replayed.simulators[name as keyof typeof replayed.simulators];
      const after = JSON.stringify(
        decisionsByFingerprint((again?.entries ?? []).filter((entry) => entry.fault !== null)),
      );
      if (before !== after) problems.push(`${file}: ${name}'s fault decisions differ from the recording`);
    }
    const reportPath = join(runDir, 'journals', file.replace(/\.json$/, '.replay.json'));
    if (existsSync(reportPath)) {
      const reports = JSON.parse(readFileSync(reportPath, 'utf8')) as Record<
        string,
        { unmatched: { fingerprint: unknown }[] }
      >;
      for (const [name, report] of Object.entries(reports))
        for (const entry of report.unmatched)
          problems.push(
            `${file}: ${name}: recorded fault found no request: ${JSON.stringify(entry.fingerprint)}`,
          );
    }
  }
  out.write(
    `replay: ${recordedFaults} recorded faults, ${problems.length ? `${problems.length} problems` : 'all reproduced'}\n`,
  );
  for (const problem of problems) out.write(`  ${problem}\n`);
  writeFileSync(join(runDir, 'replay.json'), `${JSON.stringify({ recordedFaults, problems }, null, 2)}\n`);
  return problems.length === 0;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** `planewright replay runs/<id>`: the same scenarios, seed and schedule, with the recorded decisions. */
export async function replay(
  options: Omit<RunOptions, 'filters' | 'seed' | 'faults' | 'dir' | 'replayOf'> & { runDir: string },
): Promise<number> {
  const manifestPath = join(resolve(options.cwd, options.runDir), 'run.json');
  if (!existsSync(manifestPath))
    throw new PlanewrightError(
      'PW_REPLAY_NO_RUN',
      `${manifestPath} does not exist`,
      'pass a run folder written by `planewright run` (runs/<id>)',
    );
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RunManifest;
  return run({
    ...options,
    filters: manifest.filters,
    seed: manifest.seed,
    faults: manifest.faults ?? undefined,
    dir: isAbsolute(manifest.dir) ? manifest.dir : resolve(options.cwd, manifest.dir),
    replayOf: options.runDir,
  });
}
