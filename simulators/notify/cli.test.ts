// `planewright sim notify` as a user runs it: the real bin/planewright.mjs in a child process.
import nodemailer from 'nodemailer';
import { afterEach, expect, it } from 'vitest';
import { killSimClis, startSimCli } from '../kit/cli-testing.ts';
import { getJson } from './testing.ts';

afterEach(killSimClis);

it('prints the HTTP URL first, the SMTP port on stderr, serves both, and stops on SIGTERM', async () => {
  const sim = startSimCli(['notify', '--port', '0', '--seed', '5'], { env: { LOG_LEVEL: 'info' } });
  // the SMTP port is announced on stderr, after the URL on stdout
  await sim.until(() => sim.stdout().includes('\n') && /smtp:\/\/127\.0\.0\.1:\d+/.test(sim.stderr()));
  const url = await sim.firstLine();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const smtpPort = Number(/smtp:\/\/127\.0\.0\.1:(\d+)/.exec(sim.stderr())![1]);

  const health = await getJson(`${url}/_sim/health`);
  expect(health).toMatchObject({ ok: true, simulator: 'notify', seed: 5 });
  const state = await getJson(`${url}/_sim/state`);
  expect(state.smtp).toEqual({ host: '127.0.0.1', port: smtpPort });

  await nodemailer
    .createTransport({ host: '127.0.0.1', port: smtpPort, secure: false })
    .sendMail({ from: 'app@example.test', to: 'cli@example.test', subject: 'hi', text: 'http://app.test/x' });
  const { messages } = await getJson(`${url}/_sim/messages?to=cli@example.test&wait=5s`);
  expect(messages[0].links).toEqual(['http://app.test/x']);

  sim.child.kill('SIGTERM');
  expect(await sim.exited).toBe(0);
  expect(sim.stderr()).toMatch(/planewright: stopped/);
});
