// Email over SMTP with `nodemailer`: the SMTP server starts and stops with the simulator, stores
// one copy per envelope recipient, parses MIME (subject, text, HTML, links) and checks logins
// when it is told to.
import { createConnection } from 'node:net';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { StartedNotifySimulator } from './index.ts';
import { getJson, mailbox, startNotify, webhookReceiver } from './testing.ts';

const started: StartedNotifySimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function start(options: Parameters<typeof startNotify>[0] = {}) {
  const sim = await startNotify(options);
  started.push(sim);
  return sim;
}

const transport = (sim: StartedNotifySimulator, auth?: { user: string; pass: string }) =>
  nodemailer.createTransport({
    host: sim.smtpHost,
    port: sim.smtpPort,
    secure: false,
    ...(auth ? { auth } : {}),
  });

describe('SMTP', () => {
  it('the port is on the handle and in /_sim/state; a MIME message arrives parsed, with its links', async () => {
    const sim = await start();
    expect(sim.smtpPort).toBeGreaterThan(0);
    expect(sim.smtpPort).not.toBe(sim.port);
    const state = await getJson(`${sim.url}/_sim/state`);
    expect(state.smtp).toEqual({ host: '127.0.0.1', port: sim.smtpPort });

    const info = await transport(sim).sendMail({
      from: '"App" <app@example.test>',
      to: 'ann@example.test',
      cc: 'bob@example.test',
      bcc: 'audit@example.test',
      subject: 'Reset your password',
      text: 'Reset it at http://localhost:3000/reset?token=r1',
      html: '<p>Reset it <a href="http://localhost:3000/reset?token=r1&amp;src=mail">here</a></p>',
      attachments: [{ filename: 'note.txt', content: 'hello' }],
    });
    expect(info.response).toMatch(/^250 /);

    const { body } = await mailbox(sim.url, { to: 'ann@example.test', channel: 'email', wait: '5s' });
    expect(body.messages[0]).toMatchObject({
      via: 'smtp',
      from: 'app@example.test',
      to: 'ann@example.test',
      recipients: ['ann@example.test', 'bob@example.test'],
      subject: 'Reset your password',
      text: expect.stringContaining('token=r1'),
      links: ['http://localhost:3000/reset?token=r1&src=mail', 'http://localhost:3000/reset?token=r1'],
      vendor: { attachments: [{ filename: 'note.txt', contentType: 'text/plain', size: 5 }] },
    });
    const copies = (await mailbox(sim.url, { to: '*', status: 'any' })).body.messages;
    expect(copies.map((m: { to: string }) => m.to)).toEqual([
      'ann@example.test',
      'bob@example.test',
      'audit@example.test',
    ]);
  });

  it('logins are checked when users are configured, and can be required', async () => {
    const sim = await start({
      smtp: { users: [{ username: 'app', password: 'secret' }], authRequired: true },
    });
    const mail = { from: 'app@example.test', to: 'a@example.test', subject: 's', text: 't' };
    await expect(transport(sim, { user: 'app', pass: 'wrong' }).sendMail(mail)).rejects.toMatchObject({
      code: 'EAUTH',
      responseCode: 535,
    });
    await expect(transport(sim).sendMail(mail)).rejects.toMatchObject({ responseCode: 530 });
    await transport(sim, { user: 'app', pass: 'secret' }).sendMail(mail);
    const { body } = await mailbox(sim.url, { to: 'a@example.test', wait: '5s' });
    expect(body.messages[0].vendor.user).toBe('app');
  });

  it('a bounced address over SMTP produces a bounce event on the Event Webhook', async () => {
    await using hooks = await webhookReceiver();
    const sim = await start({ webhooks: { email: hooks.url } });
    await transport(sim).sendMail({
      from: 'app@example.test',
      to: 'bounce@example.test',
      subject: 's',
      text: 't',
    });
    const events = (await hooks.waitFor(2)).map((r) => JSON.parse(r.body)[0].event);
    expect(events).toEqual(['processed', 'bounce']);
  });

  it('stops with the simulator', async () => {
    const sim = await startNotify();
    await sim.stop();
    const refused = await new Promise<string>((resolve) => {
      const socket = createConnection(sim.smtpPort, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
