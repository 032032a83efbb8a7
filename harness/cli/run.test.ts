// `planewright run` and `replay` through the real command: a fault schedule fails some requests
// under a seed, the run folder records which, and the replay — with no rules at all, only the
// recorded journal — makes the same requests fail, and says so; a recorded fault that finds no
// request fails the replay.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decisionsByFingerprint } from '../../simulators/kit/index.ts';
import { projectRoot } from './run.ts';

const exec = promisify(execFile);
const bin = join(projectRoot, 'bin', 'planewright.mjs');
const dir = join(projectRoot, 'harness', 'cli', 'testdata', 'replay');

async function planewright(args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
      cwd: projectRoot,
      timeout: 240_000,
      env: { ...process.env, PLANEWRIGHT_RUN_DIR: '', PLANEWRIGHT_SEED: '', NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const journalOf = (runDir: string) =>
  JSON.parse(readFileSync(join(runDir, 'journals', 'flaky.scenario.ts.json'), 'utf8'));

describe('planewright run and replay', () => {
  it('records the faults of a seeded run and replays exactly them', { timeout: 600_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'pw-run-'));
    const recorded = join(work, 'recorded');
    const first = await planewright([
      'run',
      '--dir',
      dir,
      '--faults',
      join(dir, 'faults.yaml'),
      '--seed',
      '7',
      '--out',
      recorded,
    ]);
    expect(first.stdout).toMatch(/^1 passed, 0 failed$/m);
    expect(first.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(recorded, 'run.json'), 'utf8'));
    expect(manifest).toMatchObject({ seed: 7, dir, faults: join(recorded, 'faults.json') });
    expect(manifest.commit).toMatch(/^[0-9a-f]{40}$/);
    const entries = journalOf(recorded).simulators.stripe.entries;
    const faulted = entries.filter((entry: { fault: unknown }) => entry.fault !== null);
    // probability 0.5 over 20 requests: some failed, some did not
    expect(faulted.length).toBeGreaterThan(0);
    expect(faulted.length).toBeLessThan(20);
    expect(readFileSync(join(recorded, 'junit.xml'), 'utf8')).toContain('<testsuites');

    const replayed = join(work, 'replayed');
    const again = await planewright(['replay', recorded, '--out', replayed]);
    expect(again.stdout).toMatch(new RegExp(`replay: ${faulted.length} recorded faults, all reproduced`));
    expect(again.code).toBe(0);
    const replayedEntries = journalOf(replayed).simulators.stripe.entries;
    expect(
      decisionsByFingerprint(replayedEntries.filter((entry: { fault: unknown }) => entry.fault)),
    ).toEqual(decisionsByFingerprint(faulted));

    // a recorded fault no request claims: the replay says so and fails
    const tampered = join(work, 'tampered');
    cpSync(recorded, tampered, { recursive: true });
    const journal = journalOf(tampered);
    journal.simulators.stripe.entries.push({
      ...faulted[0],
      seq: 999,
      fingerprint: { ...faulted[0].fingerprint, occurrence: 99 },
    });
    writeFileSync(join(tampered, 'journals', 'flaky.scenario.ts.json'), JSON.stringify(journal));
    const broken = await planewright(['replay', tampered, '--out', join(work, 'broken')]);
    expect(broken.stdout).toMatch(/recorded fault found no request: .*"occurrence":99/);
    expect(broken.code).toBe(1);
  });

  it('checks the SLOs over the run traces: a table, and exit 1 when one is not met', {
    timeout: 600_000,
  }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'pw-slo-'));
    const sloDir = join(projectRoot, 'harness', 'cli', 'testdata', 'slo');
    const runDir = join(work, 'run');
    const result = await planewright(['run', '--dir', sloDir, '--out', runDir]);
    expect(result.stdout).toMatch(/^1 passed, 0 failed$/m);
    // the scenario folder's slos.yaml: one met, one impossible
    expect(result.stdout).toMatch(/^create-api-key steps \(create-api-key\) +\d+ .* pass$/m);
    expect(result.stdout).toMatch(/^impossible step \(create-api-key\) .* FAIL: max was [\d.]+ ms$/m);
    expect(result.code).toBe(1);
    expect(readFileSync(join(runDir, 'slo.txt'), 'utf8')).toMatch(/1 of 2 SLOs met/);
    expect(readFileSync(join(runDir, 'traces', 'keys.scenario.ts.jsonl'), 'utf8')).toContain(
      'create-api-key',
    );
    const met = await planewright(['slo', 'check', runDir, '--slos', join(sloDir, 'met.yaml')]);
    expect(met.stdout).toMatch(/1 of 1 SLOs met/);
    expect(met.code).toBe(0);
    const none = await planewright(['slo', 'check', work]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/PW_SLO_NO_RUN/);
  });

  it('refuses a bad fault schedule before running anything, naming the entry', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pw-run-'));
    const faults = join(work, 'faults.json');
    writeFileSync(
      faults,
      JSON.stringify({ faults: [{ component: 'stripe', rule: {} }, { component: 'mainframe' }] }),
    );
    const result = await planewright(['run', '--dir', dir, '--faults', faults, '--out', join(work, 'run')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PW_FAULTS_INVALID: .*faults\.1\.component/);
    const usage = await planewright(['replay']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/name one run folder/);
  });
});
