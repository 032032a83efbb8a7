// `planewright sim auth` as a user runs it: the real bin/planewright.mjs in a child process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { managementToken, passwordGrant } from './test-support.ts';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));
let child: ReturnType<typeof spawn> | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('planewright sim auth', () => {
  it('prints its URL first, issues tokens and serves the Management API, then stops on SIGTERM', async () => {
    child = spawn(process.execPath, [bin, 'sim', 'auth', '--port', '0', '--seed', '7'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = once(child, 'close').then(([code]) => code as number | null);
    const deadline = Date.now() + 20_000;
    while (!stdout.includes('\n') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const url = stdout.split('\n')[0]!;
    expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'auth', seed: 7 });
    const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(`${url}/`);
    expect((await passwordGrant(url, { username: 'alice@example.com', password: 'Passw0rd!' })).status).toBe(
      200,
    );
    const token = await managementToken(url);
    expect(
      (await fetch(`${url}/api/v2/users`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
