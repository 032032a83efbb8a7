// Conformance with the official `twilio` package, pointed at the simulator through its
// documented custom `httpClient`: sends, fetches, lists, Twilio's errors, and signed status
// callbacks that `twilio.validateRequest` accepts.
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultTwilioAccount, type StartedNotifySimulator } from './index.ts';
import { mailbox, rejectionOf, startNotify, twilioClient, webhookReceiver } from './testing.ts';

const started: StartedNotifySimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function start(options: Parameters<typeof startNotify>[0] = {}) {
  const sim = await startNotify(options);
  started.push(sim);
  return sim;
}

const from = '+15550000001';

describe('Twilio Messages API', () => {
  it('creates a queued message; it is delivered to the mailbox with its link; fetch and list see it', async () => {
    const sim = await start();
    const client = twilioClient(sim.url);
    const created = await client.messages.create({
      to: '+1 555 123 4567'.replaceAll(' ', ''),
      from,
      body: 'Your reset link: http://localhost:3000/reset?token=t0k3n',
    });
    expect(created).toMatchObject({
      accountSid: defaultTwilioAccount.accountSid,
      status: 'queued',
      direction: 'outbound-api',
      numSegments: '1',
      to: '+15551234567',
      from,
      apiVersion: '2010-04-01',
      errorCode: null,
    });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created.dateCreated).toBeInstanceOf(Date);
    expect(created.uri).toBe(
      `/2010-04-01/Accounts/${defaultTwilioAccount.accountSid}/Messages/${created.sid}.json`,
    );

    const { body } = await mailbox(sim.url, { to: '+15551234567', channel: 'sms', wait: '5s' });
    expect(body.messages.map((m: { links: string[] }) => m.links)).toEqual([
      ['http://localhost:3000/reset?token=t0k3n'],
    ]);

    const fetched = await client.messages(created.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.dateSent).toBeInstanceOf(Date);
    const listed = await client.messages.list({ to: '+15551234567' });
    expect(listed.map((m) => m.sid)).toEqual([created.sid]);
  });

  it('status callbacks sent then delivered, form-encoded and signed with the auth token', async () => {
    await using hooks = await webhookReceiver();
    const sim = await start();
    const callback = `${hooks.url}/twilio/status?tenant=t_1`;
    const created = await twilioClient(sim.url).messages.create({
      to: '+15551230000',
      from,
      body: 'hello',
      statusCallback: callback,
    });
    const received = await hooks.waitFor(2);
    const params = received.map((r) => Object.fromEntries(new URLSearchParams(r.body)));
    expect(params.map((p) => p.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(params[1]).toMatchObject({
      MessageSid: created.sid,
      SmsSid: created.sid,
      SmsStatus: 'delivered',
      AccountSid: defaultTwilioAccount.accountSid,
      From: from,
      To: '+15551230000',
      ApiVersion: '2010-04-01',
    });
    expect(received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    for (const [index, request] of received.entries()) {
      const signature = request.headers['x-twilio-signature'] as string;
      expect(
        twilio.validateRequest(defaultTwilioAccount.authToken, signature, callback, params[index]!),
      ).toBe(true);
    }
  });

  it('an undeliverable number by rule: sent, then undelivered with ErrorCode 30003', async () => {
    await using hooks = await webhookReceiver();
    const sim = await start({ webhooks: { sms: hooks.url } });
    await fetch(`${sim.url}/_sim/delivery-rules`, {
      method: 'POST',
      body: JSON.stringify({ id: 'dead-phone', match: { to: '+1555999*' }, outcome: 'bounce' }),
    });
    const created = await twilioClient(sim.url).messages.create({ to: '+15559990000', from, body: 'x' });
    const received = await hooks.waitFor(2);
    const last = Object.fromEntries(new URLSearchParams(received[1]!.body));
    expect(last).toMatchObject({ MessageStatus: 'undelivered', ErrorCode: '30003', MessageSid: created.sid });
    const fetched = await twilioClient(sim.url).messages(created.sid).fetch();
    expect(fetched).toMatchObject({ status: 'undelivered', errorCode: 30003 });
  });

  it('wrong credentials: 401 with code 20003', async () => {
    const sim = await start();
    const client = twilioClient(sim.url, { ...defaultTwilioAccount, authToken: 'wrong' });
    const error = await rejectionOf(client.messages.create({ to: '+15551234567', from, body: 'x' }));
    expect(error).toMatchObject({
      status: 401,
      code: 20003,
      moreInfo: 'https://www.twilio.com/docs/errors/20003',
    });
    expect(error.message).toBe('Authenticate');
  });

  it("bad requests: Twilio's 400 codes (no body, an invalid To, a test number)", async () => {
    const sim = await start();
    const client = twilioClient(sim.url);
    const noBody = await rejectionOf(client.messages.create({ to: '+15551234567', from } as never));
    expect(noBody).toMatchObject({ status: 400, code: 21602, message: 'Message body is required.' });
    const badTo = await rejectionOf(client.messages.create({ to: '555-1234', from, body: 'x' }));
    expect(badTo).toMatchObject({ status: 400, code: 21211 });
    const unsubscribed = await rejectionOf(client.messages.create({ to: '+15005550004', from, body: 'x' }));
    expect(unsubscribed).toMatchObject({ status: 400, code: 21610 });
    const missing = await rejectionOf(client.messages('SM00000000000000000000000000000000').fetch());
    expect(missing).toMatchObject({ status: 404, code: 20404 });
  });

  it('a throttle rule: the SDK sees 429 with code 20429', async () => {
    const sim = await start();
    sim.faults.add({
      match: { path: '/2010-04-01/Accounts/:sid/Messages.json', tenant: defaultTwilioAccount.accountSid },
      fault: { kind: 'throttle' },
      count: 1,
    });
    const client = twilioClient(sim.url);
    const error = await rejectionOf(client.messages.create({ to: '+15551234567', from, body: 'x' }));
    expect(error).toMatchObject({ status: 429, code: 20429, message: 'Too Many Requests' });
    expect((await client.messages.create({ to: '+15551234567', from, body: 'x' })).status).toBe('queued');
  });

  it('segments: GSM-7 160 / 153, UCS-2 70 / 67', async () => {
    const sim = await start();
    const client = twilioClient(sim.url);
    const sizes = [
      ['a'.repeat(160), '1'],
      ['a'.repeat(161), '2'],
      ['é'.repeat(2), '1'],
      ['ü✓'.repeat(36), '2'],
    ];
    for (const [body, segments] of sizes) {
      expect((await client.messages.create({ to: '+15551234567', from, body: body! })).numSegments).toBe(
        segments,
      );
    }
  });
});
