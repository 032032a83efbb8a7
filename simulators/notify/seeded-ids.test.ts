// Message ids come from the seed: fetching a message by its SID fingerprints the request by it, so
// random SIDs would give each run other fault decisions.
import { describe, expect, it } from 'vitest';
import { decisionsOf } from '../kit/index.ts';
import { createNotifySimulator } from './index.ts';
import { sendgridMail, twilioClient } from './testing.ts';

const sms = { to: '+15551234567', from: '+15550000001', body: 'hi' };

describe('seeded message ids', () => {
  it('twilio send then fetch by SID under a 50% error rule: one seed, one journal', async () => {
    const run = async () => {
      await using sim = await createNotifySimulator({ seed: 42, latency: { sms: { ms: 1 } } })
        .withFaults([
          { match: { path: '/2010-04-01/**' }, fault: { kind: 'error', status: 500 }, probability: 0.5 },
        ])
        .start();
      const client = twilioClient(sim.url);
      const sids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const message = await client.messages.create(sms).catch(() => null);
        if (message) sids.push(message.sid);
      }
      for (const sid of sids) {
        for (let i = 0; i < 3; i++)
          await client
            .messages(sid)
            .fetch()
            .catch(() => null);
      }
      return { sids, decisions: decisionsOf(sim.journal.entries()) };
    };
    const first = await run();
    expect(first.sids.length).toBeGreaterThan(0);
    expect(new Set(first.decisions.map((d) => d.rule === null))).toEqual(new Set([true, false]));
    const second = await run();
    expect(second.sids).toEqual(first.sids);
    expect(second.decisions).toEqual(first.decisions);
  });

  it('SendGrid and Twilio ids after a reset are those of a fresh start', async () => {
    await using sim = await createNotifySimulator({ seed: 5 }).start();
    const mail = sendgridMail(sim.url);
    const send = async () =>
      (await mail.send({ to: 'ann@example.test', from: 'app@example.test', subject: 's', text: 't' }))[0]
        .headers['x-message-id'];
    const sms = async () =>
      (await twilioClient(sim.url).messages.create({ to: '+15551234567', from: '+15550000001', body: 'x' }))
        .sid;
    const fresh = [await send(), await sms(), await send()];
    expect(fresh[0]).not.toBe(fresh[2]);
    await sim.reset();
    expect([await send(), await sms(), await send()]).toEqual(fresh);
  });
});
