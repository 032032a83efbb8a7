// `planewright sim notify` as a user runs it: the real bin/planewright.mjs in a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterEach, expect, it } from 'vitest';
import { getJson } from './testing.ts';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function until(check: () => boolean, what: () => string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('prints the HTTP URL first, the SMTP port on stderr, serves both, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [bin, 'sim', 'notify', '--port', '0', '--seed', '5'], {
    env: { ...process.env, LOG_LEVEL: 'info' },
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
  const exited = once(child, 'close');
  await until(
    () => stdout.includes('\n') && /smtp:\/\/127\.0\.0\.1:\d+/.test(stderr),
    () => `${stdout}\n${stderr}`,
  );
  const url = stdout.split('\n')[0]!;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const smtpPort = Number(/smtp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)![1]);

  const health = await getJson(`${url}/_sim/health`);
  expect(health).toMatchObject({ ok: true, simulator: 'notify', seed: 5 });
  const state = await getJson(`${url}/_sim/state`);
  expect(state.smtp).toEqual({ host: '127.0.0.1', port: smtpPort });

  await nodemailer
    .createTransport({ host: '127.0.0.1', port: smtpPort, secure: false })
    .sendMail({ from: 'app@example.test', to: 'cli@example.test', subject: 'hi', text: 'http://app.test/x' });
  const { messages } = await getJson(`${url}/_sim/messages?to=cli@example.test&wait=5s`);
  expect(messages[0].links).toEqual(['http://app.test/x']);

  child.kill('SIGTERM');
  expect((await exited)[0]).toBe(0);
  expect(stderr).toMatch(/planewright: stopped/);
});
