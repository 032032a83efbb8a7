// The mailbox tests wait on, the delivery rules that decide outcomes and latencies, and the
// clock that can skip ahead to a slow delivery.
import { afterEach, describe, expect, it } from 'vitest';
import type { StartedNotifySimulator } from './index.ts';
import { getJson, mailbox, sendgridMail, startNotify, twilioClient } from './testing.ts';

const started: StartedNotifySimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.stop()));
});
async function start(options: Parameters<typeof startNotify>[0] = {}) {
  const sim = await startNotify(options);
  started.push(sim);
  return sim;
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(body) });
const email = (to: string) => ({ to, from: 'app@example.test', subject: 's', text: 't' });

describe('the mailbox', () => {
  it('waits for the first matching message, and returns empty when none comes within the wait', async () => {
    const sim = await start({ latency: { email: { ms: 150 } } });
    const waiting = mailbox(sim.url, { to: 'late@example.test', wait: '5s' });
    await sendgridMail(sim.url).send(email('late@example.test'));
    const { body } = await waiting;
    expect(body.count).toBe(1);
    expect(body.waitedMs).toBeGreaterThanOrEqual(100);

    const empty = await mailbox(sim.url, { to: 'nobody@example.test', wait: '100ms' });
    expect(empty.body).toMatchObject({ messages: [], count: 0 });
    expect(empty.body.waitedMs).toBeGreaterThanOrEqual(90);
  });

  it('filters by channel and status, newest last; DELETE clears it', async () => {
    const sim = await start();
    await sendgridMail(sim.url).send(email('x@example.test'));
    await twilioClient(sim.url).messages.create({ to: '+15551112222', from: '+15550000001', body: 'hi' });
    await sendgridMail(sim.url).send(email('y@example.test'));
    await mailbox(sim.url, { to: 'y@example.test', wait: '5s' });
    await mailbox(sim.url, { channel: 'sms', wait: '5s' });
    const emails = (await mailbox(sim.url, { channel: 'email' })).body.messages;
    expect(emails.map((m: { to: string }) => m.to)).toEqual(['x@example.test', 'y@example.test']);
    expect((await mailbox(sim.url, { channel: 'sms' })).body.count).toBe(1);

    const cleared = await (await fetch(`${sim.url}/_sim/messages`, { method: 'DELETE' })).json();
    expect(cleared).toEqual({ removed: 3 });
    expect((await mailbox(sim.url, { status: 'any' })).body.count).toBe(0);
  });

  it('refuses a wait past the bound and unknown filters, naming the fix', async () => {
    const sim = await start();
    const tooLong = await mailbox(sim.url, { wait: '2m' });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({
      code: 'PW_SIM_BAD_INPUT',
      message: expect.stringContaining('at most 60s'),
    });
    expect((await mailbox(sim.url, { channel: 'fax' })).status).toBe(400);
    expect((await mailbox(sim.url, { wait: 'soon' })).status).toBe(400);
    expect((await fetch(`${sim.url}/_sim/messages/nope`)).status).toBe(404);
  });
});

describe('delivery rules and latency', () => {
  it('a latency rule delays delivery measurably; other recipients are not held up', async () => {
    const sim = await start();
    const rule = { id: 'slow-bob', match: { to: 'bob@example.test' }, latency: { ms: 400 } };
    expect((await post(`${sim.url}/_sim/delivery-rules`, rule)).status).toBe(201);
    const sentAt = performance.now();
    const mail = sendgridMail(sim.url);
    await mail.send(email('bob@example.test'));
    await mail.send(email('ann@example.test'));
    await mailbox(sim.url, { to: 'ann@example.test', wait: '5s' });
    expect((await mailbox(sim.url, { to: 'bob@example.test' })).body.count).toBe(0);
    const { body } = await mailbox(sim.url, { to: 'bob@example.test', wait: '5s' });
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(390);
    expect(body.messages[0]).toMatchObject({ latencyMs: 400, rules: { latency: 'slow-bob', outcome: null } });
    const delivered = (await mailbox(sim.url, { to: '*@example.test' })).body.messages;
    // listed in the order they were accepted (bob's first), but ann's was delivered first
    expect(Date.parse(delivered[1].deliveredAt)).toBeLessThan(Date.parse(delivered[0].deliveredAt));
  });

  it('moving the clock forward delivers at once what has come due', async () => {
    const sim = await start({ latency: { email: { ms: 3_600_000 / 10 } } });
    await sendgridMail(sim.url).send(email('later@example.test'));
    expect((await mailbox(sim.url, { to: 'later@example.test' })).body.count).toBe(0);
    await post(`${sim.url}/_sim/clock`, { advanceMs: 360_000 });
    const { body } = await mailbox(sim.url, { to: 'later@example.test' });
    expect(body.messages[0].history.map((h: { status: string }) => h.status)).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
  });

  it('outcome rules: count-limited, newest first; reset brings back the defaults and drops pending deliveries', async () => {
    const sim = await start({ latency: { email: { ms: 50 } } });
    await post(`${sim.url}/_sim/delivery-rules`, [
      {
        id: 'drop-once',
        match: { channel: 'email' },
        outcome: 'fail',
        reason: 'Unsubscribed Address',
        count: 1,
      },
    ]);
    const mail = sendgridMail(sim.url);
    await mail.send(email('a@example.test'));
    await mail.send(email('a@example.test'));
    await mailbox(sim.url, { to: 'a@example.test', wait: '5s' });
    const dropped = (await mailbox(sim.url, { status: 'dropped', wait: '5s' })).body.messages;
    expect(dropped[0]).toMatchObject({
      rules: { outcome: 'drop-once' },
      error: { reason: 'Unsubscribed Address' },
    });
    const rules = (await getJson(`${sim.url}/_sim/delivery-rules`)).rules;
    expect(rules.map((r: { id: string; fired: number }) => [r.id, r.fired])).toEqual([
      ['drop-once', 1],
      ['fail-address', 0],
      ['bounce-address', 0],
    ]);

    await mail.send(email('pending@example.test'));
    await post(`${sim.url}/_sim/reset`, {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await mailbox(sim.url, { status: 'any' })).body.count).toBe(0);
    const after = (await getJson(`${sim.url}/_sim/delivery-rules`)).rules;
    expect(after.map((r: { id: string }) => r.id)).toEqual(['fail-address', 'bounce-address']);
  });

  it('a bad rule is a 400 naming the field', async () => {
    const sim = await start();
    const answer = await post(`${sim.url}/_sim/delivery-rules`, {
      match: { channel: 'fax' },
      latency: { ms: 1, uniform: { minMs: 1, maxMs: 2 } },
    });
    expect(answer.status).toBe(400);
    const { error } = (await answer.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('PW_SIM_BAD_RULE');
    expect(error.message).toMatch(/match\.channel/);
    expect(error.message).toMatch(/exactly one of ms, uniform or lognormal/);
  });

  it('the same seed gives the same latencies', async () => {
    const latencies = async () => {
      const sim = await start({ seed: 7, latency: { email: { lognormal: { medianMs: 5, p99Ms: 50 } } } });
      const mail = sendgridMail(sim.url);
      for (const to of ['a@example.test', 'b@example.test', 'a@example.test']) await mail.send(email(to));
      return (await mailbox(sim.url, { status: 'any' })).body.messages.map(
        (m: { latencyMs: number }) => m.latencyMs,
      );
    };
    const [first, second] = [await latencies(), await latencies()];
    expect(first).toEqual(second);
    expect(new Set(first).size).toBe(3);
  });

  it('webhook targets can be set and removed at run time', async () => {
    const sim = await start();
    const set = await post(`${sim.url}/_sim/webhooks`, { email: 'http://127.0.0.1:9/events', sms: null });
    expect(await set.json()).toEqual({ targets: { email: 'http://127.0.0.1:9/events', sms: null } });
    expect((await post(`${sim.url}/_sim/webhooks`, { email: 'ftp://x' })).status).toBe(400);
    expect((await post(`${sim.url}/_sim/webhooks`, { voice: 'http://x.test' })).status).toBe(400);
  });
});
