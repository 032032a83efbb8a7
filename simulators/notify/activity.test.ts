// SendGrid's Email Activity Feed subset (`GET /v3/messages`), through HTTP and through the official
// `@sendgrid/client`'s `request()`; and Twilio's message list filtered by To and DateSent.
import sendgridClient from '@sendgrid/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { StartedNotifySimulator } from './index.ts';
import { parseActivityQuery } from './routes/sendgrid-activity.ts';
import { rejectionOf, sendgridMail, startNotify, twilioClient } from './testing.ts';

const started: StartedNotifySimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function start() {
  const sim = await startNotify();
  started.push(sim);
  return sim;
}

const key = 'SG.test-key.secret';
const { Client } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };

async function activity(url: string, params: Record<string, string>, auth = `Bearer ${key}`) {
  const answer = await fetch(`${url}/v3/messages?${new URLSearchParams(params)}`, {
    headers: { authorization: auth },
  });
  return { status: answer.status, body: (await answer.json()) as any };
}

async function sendTwo(url: string) {
  const mail = sendgridMail(url);
  await mail.send({
    to: 'ann@example.test',
    from: 'app@example.test',
    subject: 'First',
    text: 'one',
    customArgs: { idempotency_key: 'flow-1:notify:email' },
  });
  await mail.send({
    to: 'bob@example.test',
    from: 'app@example.test',
    subject: 'Second',
    text: 'two',
    customArgs: { idempotency_key: 'flow-2:notify:email' },
  });
}

describe('SendGrid Email Activity Feed', () => {
  it('finds a message by its custom arg and recipient, with the fields SendGrid answers', async () => {
    const sim = await start();
    await sendTwo(sim.url);
    const found = await activity(sim.url, {
      query: `unique_args['idempotency_key']="flow-1:notify:email" AND to_email="ANN@example.test"`,
      limit: '10',
    });
    expect(found.status).toBe(200);
    expect(found.body.messages).toHaveLength(1);
    expect(found.body.messages[0]).toMatchObject({
      from_email: 'app@example.test',
      subject: 'First',
      to_email: 'ann@example.test',
      opens_count: 0,
      clicks_count: 0,
    });
    expect(found.body.messages[0].msg_id).toMatch(/\.sim0$/);
    expect(['processed', 'delivered']).toContain(found.body.messages[0].status);
    expect(typeof found.body.messages[0].last_event_time).toBe('string');

    const otherRecipient = await activity(sim.url, {
      query: `unique_args['idempotency_key']="flow-1:notify:email" AND to_email="bob@example.test"`,
    });
    expect(otherRecipient.body.messages).toEqual([]);
    const all = await activity(sim.url, { limit: '1' });
    expect(all.body.messages.map((m: { subject: string }) => m.subject)).toEqual(['Second']);
  });

  it('401 without a valid key; 400 for a query it cannot parse or a bad limit', async () => {
    const sim = await start();
    expect((await activity(sim.url, {}, 'Bearer nope')).status).toBe(401);
    const bad = await activity(sim.url, { query: 'to_email=ann@example.test' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('query');
    expect((await activity(sim.url, { query: 'nonsense_field="x"' })).status).toBe(400);
    expect((await activity(sim.url, { query: 'to_email="a@b.c" OR subject="x"' })).status).toBe(400);
    expect((await activity(sim.url, { limit: '0' })).status).toBe(400);
  });

  it('answers the official client request() the control plane makes', async () => {
    const sim = await start();
    await sendTwo(sim.url);
    const client = new Client();
    client.setApiKey(key);
    client.setDefaultRequest('baseUrl', `${sim.url}/`);
    const [response, body] = await client.request({
      method: 'GET',
      url: '/v3/messages',
      qs: { query: `unique_args['idempotency_key']="flow-2:notify:email"`, limit: 10 },
    });
    expect(response.statusCode).toBe(200);
    expect((body as any).messages.map((m: { to_email: string }) => m.to_email)).toEqual(['bob@example.test']);
    const error = await rejectionOf(
      client.request({ method: 'GET', url: '/v3/messages', qs: { query: 'subject=' } }),
    );
    expect(error.code).toBe(400);
  });

  it('parses escaped quotes and AND chains', () => {
    expect(parseActivityQuery(`subject="say \\"hi\\"" and unique_args["k"]="v"`)).toEqual([
      { field: 'subject', value: 'say "hi"' },
      { field: 'unique_args', arg: 'k', value: 'v' },
    ]);
    expect(typeof parseActivityQuery('')).toBe('string');
  });
});

describe('Twilio message list filters', () => {
  it('by To and DateSent> (an instant, as the SDK writes dateSentAfter) and DateSent<', async () => {
    const sim = await start();
    const client = twilioClient(sim.url);
    const from = '+15550000001';
    await client.messages.create({ to: '+14155550100', from, body: 'early Ref AAAA' });
    // the SDK writes whole seconds: the bound lies a second after the first message, before the next
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const between = new Date(Math.ceil(Date.now() / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, between.getTime() - Date.now() + 50));
    await client.messages.create({ to: '+14155550100', from, body: 'late Ref BBBB' });
    await client.messages.create({ to: '+14155550199', from, body: 'other Ref CCCC' });
    const after = await client.messages.list({ to: '+14155550100', dateSentAfter: between });
    expect(after.map((m) => m.body)).toEqual(['late Ref BBBB']);
    const before = await client.messages.list({ to: '+14155550100', dateSentBefore: between });
    expect(before.map((m) => m.body)).toEqual(['early Ref AAAA']);
    const today = await client.messages.list({ to: '+14155550100', dateSent: new Date() });
    expect(today).toHaveLength(2);
    const answer = await fetch(
      `${sim.url}/2010-04-01/Accounts/${(client as any).accountSid}/Messages.json?DateSent%3E=yesterday`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${(client as any).accountSid}:${(client as any).password}`).toString('base64')}`,
        },
      },
    );
    expect(answer.status).toBe(400);
  });
});
