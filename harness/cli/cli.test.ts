// The real `planewright` command, run as a child process exactly as a user or CI runs it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../env/postgres.ts';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];
const folders: string[] = [];

/** A folder the embedded Postgres (which runs as user `postgres` under root) can enter. */
function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(folder, 0o755);
  folders.push(folder);
  return folder;
}

function run(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    node?: string;
    /** Its own process group, so a test can signal the group as a terminal's Ctrl-C does. */
    detached?: boolean;
  } = {},
): Run {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  // the CLI's own Postgres, whatever the test run uses
  if (!options.env || !('DATABASE_URL' in options.env)) delete env.DATABASE_URL;
  const child = spawn(options.node ?? process.execPath, [bin, ...args], {
    cwd: options.cwd ?? tempFolder('pw-cli-cwd-'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'close').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The embedded Postgres data folders in `tmp` (other tools, such as jiti, keep caches there too). */
function postgresFolders(tmp: string): string[] {
  return readdirSync(tmp).filter((name) => name.startsWith('planewright-pg-'));
}

async function firstLine(run: Run, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [line] = run.stdout().split('\n');
    if (run.stdout().includes('\n')) return line!;
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no first line from planewright:\n${run.stdout()}\n${run.stderr()}`);
}

/** A Node on PATH that cannot strip types (as CI's Node 20), to check the launcher re-runs itself. */
function olderSystemNode(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(folder, 'node');
    if (folder.includes('node_modules') || !existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['-p', 'process.versions.node']).toString().trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return candidate;
  }
  return undefined;
}

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('planewright (bin/planewright.mjs)', () => {
  it('--help lists the commands and exits 0', async () => {
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(/Usage: planewright <command>/);
    expect(help.stdout()).toMatch(/^ {2}up {2}/m);
    const upHelp = run(['up', '--help']);
    expect(await upHelp.exited).toBe(0);
    expect(upHelp.stdout()).toMatch(/--port N/);
  });

  it.runIf(olderSystemNode())(
    'runs on a Node that cannot strip types by re-running itself with the pinned Node',
    async () => {
      const help = run(['--help'], { node: olderSystemNode()! });
      expect(await help.exited).toBe(0);
      expect(help.stdout()).toMatch(/Usage: planewright <command>/);
    },
  );

  it('exits 2 naming an unknown flag, a bad value or an unknown command', async () => {
    const flag = run(['up', '--bogus']);
    expect(await flag.exited).toBe(2);
    expect(flag.stderr()).toMatch(/PW_USAGE: .*--bogus/);
    const port = run(['up', '--port', 'eighty']);
    expect(await port.exited).toBe(2);
    expect(port.stderr()).toMatch(/--port must be a number/);
    const command = run(['frobnicate']);
    expect(await command.exited).toBe(2);
    expect(command.stderr()).toMatch(/unknown command "frobnicate"; known commands: up/);
    const none = run([]);
    expect(await none.exited).toBe(2);
  });

  it('up: serves the control plane with a working token and env.json, and SIGTERM removes everything', async () => {
    const tmp = tempFolder('pw-cli-tmp-');
    const cwd = tempFolder('pw-cli-cwd-');
    // through the launcher when this machine has an older Node, as on CI: signals must pass through it
    const up = run(['up'], { cwd, env: { PLANEWRIGHT_PG_DATA_PARENT: tmp }, node: olderSystemNode() });
    const url = await firstLine(up);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // the vendor simulators run with it, each named with its URL
    for (const name of ['stripe', 'salesforce', 'auth', 'notify'])
      expect(up.stdout()).toMatch(new RegExp(`^ {2}${name} +http://127\\.0\\.0\\.1:\\d+`, 'm'));
    expect(postgresFolders(tmp)).toHaveLength(1);

    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const envFile = join(cwd, '.planewright', 'env.json');
    const env = JSON.parse(readFileSync(envFile, 'utf8'));
    expect(env.controlPlane.url).toBe(url);
    expect(env.postgres.embedded).toBe(true);
    // the simulators answer, and the owner's token is one of the auth simulator's
    expect((await fetch(`${env.simulators.stripe.url}/_sim/health`)).status).toBe(200);
    expect(env.auth.issuer).toBe(`${env.simulators.auth.url}/`);
    const orgs = await fetch(`${url}/v1/orgs`, { headers: { authorization: `Bearer ${env.tokens.owner}` } });
    expect(orgs.status).toBe(200);
    expect(((await orgs.json()) as { data: unknown[] }).data).toEqual([
      expect.objectContaining({ slug: 'dev', role: 'owner', id: env.org.id }),
    ]);
    const admin = await fetch(`${url}/v1/admin/flows`, {
      headers: { authorization: `Bearer ${env.tokens.admin}` },
    });
    expect(admin.status).toBe(200);

    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(0);
    expect(existsSync(envFile)).toBe(false);
    expect(postgresFolders(tmp)).toEqual([]);
    expect(() => process.kill(env.controlPlane.pid, 0)).toThrow(/ESRCH/);
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  });

  it('up --json --port N prints one JSON line, listens on that port, and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const tmp = tempFolder('pw-cli-tmp-');
    const up = run(['up', '--json', '--port', String(port)], {
      env: { PLANEWRIGHT_PG_DATA_PARENT: tmp },
      detached: true,
    });
    const summary = JSON.parse(await firstLine(up));
    expect(summary.controlPlane.url).toBe(`http://127.0.0.1:${port}`);
    expect(summary.envFile).toMatch(/\.planewright\/env\.json$/);
    // Ctrl-C signals the whole process group: the CLI, the control plane and Postgres at once
    process.kill(-up.child.pid!, 'SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.stderr()).toMatch(/planewright: stopped/);
    expect(existsSync(summary.envFile)).toBe(false);
    expect(postgresFolders(tmp)).toEqual([]);
  });

  it('up refuses to start a second time from the same folder', async () => {
    const cwd = tempFolder('pw-cli-cwd-');
    mkdirSync(join(cwd, '.planewright'));
    // a live pid stands for the first run's control plane
    const first = { controlPlane: { url: 'http://127.0.0.1:1', pid: process.pid } };
    writeFileSync(join(cwd, '.planewright', 'env.json'), JSON.stringify(first));
    const up = run(['up'], { cwd });
    expect(await up.exited).toBe(1);
    expect(up.stderr()).toMatch(/PW_ALREADY_UP: .*pid \d+.*stop it first/);
    expect(JSON.parse(readFileSync(join(cwd, '.planewright', 'env.json'), 'utf8'))).toEqual(first);
  });

  it('up: a control plane that does not start is named with its last log lines, and nothing is left behind', async () => {
    const tmp = tempFolder('pw-cli-tmp-');
    const up = run(['up'], { env: { PLANEWRIGHT_PG_DATA_PARENT: tmp, LOG_LEVEL: 'loud' } });
    expect(await up.exited).toBe(1);
    expect(up.stderr()).toMatch(
      /PW_CONTROL_PLANE_START_FAILED: the control plane exited \(2\) before it was ready/,
    );
    expect(up.stderr()).toMatch(/LOG_LEVEL: /);
    expect(up.stderr()).toMatch(/control-plane\.log/);
    expect(postgresFolders(tmp)).toEqual([]);
  });
});
