// Webhooks go only to this machine unless `allowExternalWebhooks`: the configured targets, POST
// /_sim/webhooks and Twilio's StatusCallback are checked; redirects are not followed; and stop()
// does not wait on a receiver that never answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNotifySimulator, type StartedNotifySimulator } from './index.ts';
import { rejectionOf, sendgridMail, startNotify, twilioClient } from './testing.ts';

const started: StartedNotifySimulator[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});
async function start(options: Parameters<typeof startNotify>[0] = {}) {
  const sim = await startNotify(options);
  started.push(sim);
  return sim;
}

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A receiver that counts requests and answers with `handle` (or never). */
async function receiver(handle: (res: import('node:http').ServerResponse) => void) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    handle(res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, sockets, requests: () => requests };
}

describe('notify webhooks off this machine', () => {
  it('configured targets off loopback are a PW_SIM_BAD_CONFIG naming the option', () => {
    expect(() => createNotifySimulator({ webhooks: { email: 'https://hooks.example.com/sg' } })).toThrow(
      /PW_SIM_BAD_CONFIG.*webhooks\.email: hooks\.example\.com is not a loopback address.*allowExternalWebhooks/,
    );
    expect(() => createNotifySimulator({ webhooks: { sms: 'http://10.1.2.3/twilio' } })).toThrow(
      /webhooks\.sms: 10\.1\.2\.3 is not a loopback/,
    );
    expect(() =>
      createNotifySimulator({
        allowExternalWebhooks: true,
        webhooks: { email: 'https://hooks.example.com/' },
      }),
    ).not.toThrow();
  });

  it('POST /_sim/webhooks refuses a target off loopback and changes nothing', async () => {
    const sim = await start();
    const refused = await postJson(`${sim.url}/_sim/webhooks`, {
      email: 'http://127.0.0.1:9/ok',
      sms: 'http://192.168.0.10/twilio',
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /sms: 192\.168\.0\.10 is not a loopback address.*allowExternalWebhooks/,
    );
    expect(sim.state.webhooks).toEqual({ email: null, sms: null });
    const open = await start({ allowExternalWebhooks: true });
    expect((await postJson(`${open.url}/_sim/webhooks`, { sms: 'https://example.com/t' })).status).toBe(200);
  });

  it("Twilio's StatusCallback off loopback is Twilio's 400 21609", async () => {
    const sim = await start();
    const error = await rejectionOf(
      twilioClient(sim.url).messages.create({
        to: '+15551234567',
        from: '+15550000001',
        body: 'hi',
        statusCallback: 'https://example.com/status',
      }),
    );
    expect(error).toMatchObject({ status: 400, code: 21609 });
    expect(error.message).toMatch(/allowExternalWebhooks/);
    const open = await start({ allowExternalWebhooks: true, webhookRetry: { attempts: 1 } });
    const message = await twilioClient(open.url).messages.create({
      to: '+15551234567',
      from: '+15550000001',
      body: 'hi',
      statusCallback: 'http://127.0.0.1:9/status',
    });
    expect(message.status).toBe('queued');
  });

  it('a redirect is a failed attempt, not followed', async () => {
    const target = await receiver((res) => res.end());
    const redirecting = await receiver((res) => res.writeHead(302, { location: target.url }).end());
    const sim = await start({
      webhooks: { email: redirecting.url },
      webhookRetry: { attempts: 2, backoffMs: 1 },
    });
    await sendgridMail(sim.url).send({
      to: 'ann@example.test',
      from: 'app@example.test',
      subject: 's',
      text: 't',
    });
    await expect.poll(() => sim.state.webhookLog.filter((a) => a.event === 'processed').length).toBe(2);
    expect(sim.state.webhookLog[0]).toMatchObject({ status: 302, error: null });
    expect(target.requests()).toBe(0);
  });

  it('stop() ends a webhook whose receiver never answers at once, and closes its connection', async () => {
    const hanging = await receiver(() => {});
    const sim = await startNotify({ webhooks: { email: hanging.url }, webhookRetry: { timeoutMs: 30_000 } });
    await sendgridMail(sim.url).send({
      to: 'ann@example.test',
      from: 'app@example.test',
      subject: 's',
      text: 't',
    });
    await expect.poll(() => hanging.requests()).toBeGreaterThan(0);
    const stopping = performance.now();
    await sim.stop();
    expect(performance.now() - stopping).toBeLessThan(1_000);
    await expect.poll(() => hanging.sockets.size).toBe(0);
  });
});
