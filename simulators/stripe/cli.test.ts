// `planewright sim stripe` as a user runs it: the real bin/planewright.mjs in a child process,
// with the official SDK talking to what it started.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sdkFor } from './sdk-testing.ts';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));

describe('planewright sim stripe', () => {
  it('prints its URL first, serves the SDK, and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [bin, 'sim', 'stripe', '--port', '0', '--seed', '9'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('\n') && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const url = stdout.split('\n')[0] ?? '';
      expect(url, stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const stripe = sdkFor({ port: Number(new URL(url).port) });
      const customer = await stripe.customers.create({ email: 'cli@example.com' });
      expect(customer.id).toMatch(/^cus_/);
      const health = await (await fetch(`${url}/_sim/health`)).json();
      expect(health).toMatchObject({ ok: true, simulator: 'stripe', seed: 9 });
      const exited = once(child, 'close');
      child.kill('SIGINT');
      expect((await exited)[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
