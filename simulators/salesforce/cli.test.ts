// `planewright sim salesforce` as a user runs it: the real bin/planewright.mjs in a child process,
// then jsforce logging in to the URL it printed.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, loggedIn } from './testing.ts';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));
const running: ChildProcess[] = [];

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(args: string[]) {
  const child = spawn(process.execPath, [bin, 'sim', 'salesforce', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
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
  const firstLine = async () => {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !stdout.includes('\n') && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!stdout.includes('\n')) throw new Error(`no first line:\n${stdout}\n${stderr}`);
    return stdout.split('\n')[0]!;
  };
  return {
    child,
    firstLine,
    exited: once(child, 'close').then(([code]) => code as number | null),
    stderr: () => stderr,
  };
}

describe('planewright sim salesforce', () => {
  it('prints its URL first; jsforce logs in with the documented user and works; SIGTERM stops it', async () => {
    const sim = start(['--port', '0', '--seed', '5']);
    const url = await sim.firstLine();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const conn = await loggedIn(url);
    expect((await conn.identity()).username).toBe(admin.username);
    const { id } = await conn.sobject('Task').create({ Subject: 'from the CLI' });
    expect((await conn.sobject('Task').retrieve(id!)).Subject).toBe('from the CLI');
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'salesforce', seed: 5 });
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    expect(sim.stderr()).toMatch(/the salesforce simulator is up at/);
  });
});
