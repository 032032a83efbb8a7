// Conformance with the official `@sendgrid/mail` package, pointed at the simulator through its
// client's `baseUrl`: sends, the mailbox, SendGrid's error answers and its event webhook.
import { afterEach, describe, expect, it } from 'vitest';
import type { StartedNotifySimulator } from './index.ts';
import { getJson, mailbox, rejectionOf, sendgridMail, startNotify, webhookReceiver } from './testing.ts';

const started: StartedNotifySimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function start(options: Parameters<typeof startNotify>[0] = {}) {
  const sim = await startNotify(options);
  started.push(sim);
  return sim;
}

describe('SendGrid v3 mail send', () => {
  it('202 with X-Message-Id; the message arrives in the mailbox with its links', async () => {
    const sim = await start();
    const mail = sendgridMail(sim.url);
    const [response] = await mail.send({
      to: 'ann@example.test',
      from: { email: 'app@example.test', name: 'App' },
      subject: 'You are invited',
      text: 'Join here: https://app.example.test/invite?token=abc123.',
      html: '<p><a href="https://app.example.test/invite?token=abc123&amp;org=7">Join</a></p>',
    });
    expect(response.statusCode).toBe(202);
    const messageId = response.headers['x-message-id'] as string;
    expect(messageId).toMatch(/^[\w-]{22}$/);

    const { body } = await mailbox(sim.url, { to: 'ANN@example.test', wait: '5s' });
    expect(body.messages).toHaveLength(1);
    const [message] = body.messages;
    expect(message).toMatchObject({
      id: `${messageId}.sim0`,
      channel: 'email',
      via: 'sendgrid',
      from: 'app@example.test',
      to: 'ann@example.test',
      subject: 'You are invited',
      status: 'delivered',
    });
    expect(message.links).toEqual([
      'https://app.example.test/invite?token=abc123&org=7',
      'https://app.example.test/invite?token=abc123',
    ]);
    expect(message.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'sent', 'delivered']);
  });

  it('one message per recipient (to, cc, bcc); template data links; sandbox mode sends nothing', async () => {
    const sim = await start();
    const mail = sendgridMail(sim.url);
    await mail.send({
      personalizations: [
        {
          to: [{ email: 'a@example.test' }],
          cc: [{ email: 'b@example.test' }],
          bcc: [{ email: 'c@example.test' }],
        },
      ],
      from: 'app@example.test',
      templateId: 'd-123',
      dynamicTemplateData: { name: 'Ann', resetUrl: 'https://app.example.test/reset/xyz' },
    });
    // every copy is stored when SendGrid accepts the request, delivered or not yet
    const all = (await mailbox(sim.url, { to: '*@example.test', status: 'any' })).body.messages;
    expect(all.map((m: { to: string }) => m.to)).toEqual([
      'a@example.test',
      'b@example.test',
      'c@example.test',
    ]);
    expect(all[0].links).toEqual(['https://app.example.test/reset/xyz']);
    expect(all[2].recipients).toEqual(['a@example.test', 'b@example.test']);
    expect(all[0].vendor).toMatchObject({ templateId: 'd-123', dynamicTemplateData: { name: 'Ann' } });

    const [sandboxed] = await mail.send({
      to: 'd@example.test',
      from: 'app@example.test',
      subject: 's',
      text: 't',
      mailSettings: { sandboxMode: { enable: true } },
    });
    expect(sandboxed.statusCode).toBe(200);
    expect((await mailbox(sim.url, { to: 'd@example.test', status: 'any' })).body.messages).toEqual([]);
  });

  it('an API key it does not know: 401 in SendGrid shape', async () => {
    const sim = await start({ sendgrid: { apiKeys: ['SG.good.key'] } });
    const error = await rejectionOf(
      sendgridMail(sim.url, 'SG.wrong.key').send({
        to: 'a@example.test',
        from: 'app@example.test',
        subject: 's',
        text: 't',
      }),
    );
    expect(error.code).toBe(401);
    expect(error.response.body).toEqual({
      errors: [
        {
          message: 'The provided authorization grant is invalid, expired, or revoked',
          field: null,
          help: null,
        },
      ],
    });
    const missing = await fetch(`${sim.url}/v3/mail/send`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      'authorization required',
    );
  });

  it('a bad request: 400 naming each field, as SendGrid does', async () => {
    const sim = await start();
    const error = await rejectionOf(
      sendgridMail(sim.url).send({ to: 'not-an-address', text: 'no subject, no sender' } as never),
    );
    expect(error.code).toBe(400);
    const fields = error.response.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(['personalizations.0.to.0.email', 'from', 'subject']);
    expect(error.response.body.errors[1]).toMatchObject({
      message: expect.stringMatching(/^The from object must be provided for every email send/),
      help: expect.stringContaining('#message.from'),
    });
  });

  it('a bounced address produces processed then bounce events on the Event Webhook', async () => {
    await using hooks = await webhookReceiver();
    const sim = await start({ webhooks: { email: `${hooks.url}/events` } });
    const [response] = await sendgridMail(sim.url).send({
      to: 'bounce@example.test',
      from: 'app@example.test',
      subject: 'Hello',
      text: 'Hi',
      customArgs: { tenant: 't_1' },
    });
    const received = await hooks.waitFor(2);
    const events = received.map((r) => JSON.parse(r.body));
    expect(events.every((batch) => Array.isArray(batch) && batch.length === 1)).toBe(true);
    const [processed, bounce] = events.map((batch) => batch[0]);
    expect(processed).toMatchObject({ event: 'processed', email: 'bounce@example.test', tenant: 't_1' });
    expect(bounce).toMatchObject({
      event: 'bounce',
      email: 'bounce@example.test',
      type: 'bounce',
      status: '5.1.1',
      reason: expect.stringContaining('550'),
      tenant: 't_1',
    });
    expect(bounce.sg_message_id.split('.')[0]).toBe(response.headers['x-message-id']);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    const bounced = await mailbox(sim.url, { to: 'bounce@example.test', status: 'bounced' });
    expect(bounced.body.messages[0].error).toMatchObject({ code: '5.1.1' });
    expect((await mailbox(sim.url, { to: 'bounce@example.test' })).body.messages).toEqual([]);
  });

  it('a webhook receiver that fails is retried with backoff', async () => {
    await using hooks = await webhookReceiver({ failFirst: 2 });
    const sim = await start({
      webhooks: { email: hooks.url },
      webhookRetry: { attempts: 4, backoffMs: 20 },
      // only `processed` is posted while the test looks: delivery comes long after
      latency: { email: { ms: 60_000 } },
    });
    await sendgridMail(sim.url).send({
      to: 'a@example.test',
      from: 'app@example.test',
      subject: 's',
      text: 't',
    });
    await hooks.waitFor(1);
    const { attempts } = await getJson(`${sim.url}/_sim/webhooks`);
    const processed = attempts.filter((a: { event: string }) => a.event === 'processed');
    expect(processed.map((a: { status: number }) => a.status)).toEqual([500, 500, 200]);
    expect(Date.parse(processed[2].at) - Date.parse(processed[0].at)).toBeGreaterThanOrEqual(55);
  });

  it("a throttle rule: the SDK sees SendGrid's 429", async () => {
    const sim = await start();
    sim.faults.add({
      match: { path: '/v3/mail/send' },
      fault: { kind: 'throttle', retryAfterS: 3 },
      count: 1,
    });
    const mail = sendgridMail(sim.url);
    const message = { to: 'a@example.test', from: 'app@example.test', subject: 's', text: 't' };
    const error = await rejectionOf(mail.send(message));
    expect(error.code).toBe(429);
    expect(error.response.body).toEqual({
      errors: [{ message: 'too many requests', field: null, help: null }],
    });
    expect(error.response.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(error.response.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    const [retried] = await mail.send(message);
    expect(retried.statusCode).toBe(202);
  });

  it("an error rule: SendGrid's error shape for the injected status", async () => {
    const sim = await start();
    sim.faults.add({ match: { path: '/v3/**' }, fault: { kind: 'error', status: 500 }, count: 1 });
    const error = await rejectionOf(
      sendgridMail(sim.url).send({ to: 'a@example.test', from: 'app@example.test', subject: 's', text: 't' }),
    );
    expect(error.code).toBe(500);
    expect(error.response.body.errors[0]).toMatchObject({
      message: '500 injected by a fault rule',
      field: null,
    });
  });
});
