// The password-reset flow's sends when an attempt's outcome is unknown: the vendor took the
// message but the answer was lost (here: the stand-in accepts, then throws as a dropped socket
// would). The retry looks the message up at the vendor and does not send it again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';
import { type EmailMessage, messageRef } from '../../vendors/index.ts';

let cp: TestControlPlane;
const emails: EmailMessage[] = [];
const sms: { to: string; body: string; sid: string; at: Date }[] = [];
const lookups: string[] = [];
beforeAll(async () => {
  cp = await startTestControlPlane({ FLOW_RETRY_BASE_MS: '20', FLOW_RETRY_MAX_MS: '100' });
  Object.assign(cp.deps.vendors, {
    auth: { tickets: { changePassword: async () => ({ ticket: 'https://auth.example.test/t/secret' }) } },
    email: {
      async send(message: EmailMessage) {
        emails.push(message);
        // accepted, but the answer never arrives
        if (emails.length === 1) throw new Error('socket hang up');
      },
      async findSent(key: string, to: string) {
        lookups.push(`email ${to}`);
        const found = emails.find((m) => m.idempotencyKey === key && m.to === to);
        return found ? { id: 'sg-1', status: 'delivered' } : undefined;
      },
    },
    sms: {
      async send(message: { to: string; body: string }) {
        sms.push({ ...message, sid: `SM${sms.length}`, at: new Date() });
        if (sms.length === 1) throw new Error('socket hang up');
        return { sid: `SM${sms.length - 1}` };
      },
      async findSent(query: { to: string; marker: string; since: Date }) {
        lookups.push(`sms ${query.to}`);
        const found = sms.find(
          (m) => m.to === query.to && m.body.includes(query.marker) && m.at >= query.since,
        );
        return found ? { id: found.sid, status: 'sent' } : undefined;
      },
    },
  });
});
afterAll(() => cp?.close());

it('an attempt whose outcome is unknown is looked up at the vendor, not sent again', async () => {
  const user = await cp.newUser('unknown-outcome');
  expect((await user.client.patch('/v1/users/me', { phone: '+14155550300' })).status).toBe(200);
  expect((await cp.anonymous.post('/v1/password-resets', { email: user.email })).status).toBe(202);
  const { rows } = await cp.deps.db.query(
    `SELECT f.id FROM flows f JOIN users u ON u.id::text = f.context->>'userId'
      WHERE f.type = 'password-reset' AND u.subject = $1`,
    [user.sub],
  );
  expect(await cp.deps.flows.waitForCompletion(rows[0].id, 10_000)).toMatchObject({ state: 'succeeded' });
  expect(emails).toHaveLength(1);
  expect(sms).toHaveLength(1);
  expect(lookups.sort()).toEqual([`email ${user.email}`, 'sms +14155550300']);
  // the SMS carries the reference the lookup matched
  expect(sms[0]!.body).toContain(messageRef(`${rows[0].id}:notify:sms`));
  const effects = await cp.deps.db.query(
    'SELECT key, result FROM flow_effects WHERE flow_id = $1 ORDER BY key',
    [rows[0].id],
  );
  expect(effects.rows.map((r) => r.key.replace(`${rows[0].id}:`, ''))).toEqual([
    'notify:email',
    'notify:email:attempt',
    'notify:sms',
    'notify:sms:attempt',
  ]);
  expect(effects.rows[0].result).toEqual({ sent: true, found: 'sg-1' });
  expect(effects.rows[2].result).toEqual({ sid: 'SM0' });
});
