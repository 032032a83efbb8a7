import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';
import type { EmailMessage } from '../../vendors/index.ts';

let cp: TestControlPlane;
/** Every email the flows sent, through a stand-in for SendGrid. */
const sent: EmailMessage[] = [];
/** Failures the stand-in answers with before it accepts again (a provider outage). */
const failures: Error[] = [];
/** The same, for one recipient only: another test's email still in flight cannot take them. */
const failuresFor = new Map<string, Error[]>();
beforeAll(async () => {
  cp = await startTestControlPlane({ INVITATION_TTL_HOURS: '48', APP_URL: 'https://app.example.test/' });
  // the flows read deps.vendors when a step runs: no auth provider here, email through the stand-in
  Object.assign(cp.deps.vendors, {
    email: {
      async send(message: EmailMessage) {
        const failure = failuresFor.get(message.to)?.shift() ?? failures.shift();
        if (failure) throw failure;
        sent.push(message);
      },
    },
  });
});
afterAll(() => cp?.close());
// the clock is shared by the whole test database: every test starts from real time
afterEach(() => cp.deps.db.query('UPDATE clock SET offset_ms = 0'));

/** A user whose token carries `email` (a fresh subject each time). */
async function userWithEmail(email: string) {
  const sub = `auth0|${crypto.randomUUID()}`;
  const token = await cp.auth.token({ sub, email, name: 'invitee' });
  const client = apiClient(cp.url, token);
  await client.get('/v1/users/me');
  const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [sub]);
  return { client, sub, userId: rows[0].id as string };
}

async function addMember(orgId: string, userId: string, role: string) {
  await cp.deps.db.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [
    orgId,
    userId,
    role,
  ]);
}

const uniqueEmail = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.test`;

const emailsTo = (to: string) => sent.filter((m) => m.to.toLowerCase() === to.toLowerCase());

/** The one-time token of the link in the invitation email of flow `flowId`. */
function tokenOf(flowId: string): string {
  const messages = sent.filter((m) => m.idempotencyKey.startsWith(`${flowId}:`));
  expect(messages).toHaveLength(1);
  const link = /https:\/\/app\.example\.test\/invitations\/accept\?token=([\w-]+)/.exec(messages[0]!.text);
  expect(link, messages[0]!.text).not.toBeNull();
  return link![1]!;
}

/** Invites `email`, waits for the invite-user flow, and returns the answer and the emailed token. */
async function invite(client: ReturnType<typeof apiClient>, orgId: string, email: string, role = 'member') {
  const created = await client.post(`/v1/orgs/${orgId}/invitations`, { email, role });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(await cp.deps.flows.waitForCompletion(created.body.flowId, 5000)).toMatchObject({
    state: 'succeeded',
  });
  return { created, token: tokenOf(created.body.flowId) };
}

async function flowCount(orgId: string): Promise<number> {
  const { rows } = await cp.deps.db.query('SELECT count(*)::int AS n FROM flows WHERE org_id = $1', [orgId]);
  return rows[0].n;
}

describe('invitations', () => {
  it('invites by email; the one-time token is stored hashed and joins the invitee with the role', async () => {
    const owner = await cp.newOrg('inviters');
    const email = uniqueEmail('Grace');
    const { created, token } = await invite(owner.client, owner.orgId, email, 'admin');
    expect(created.body).toMatchObject({ email, role: 'admin', status: 'pending', emailedAt: null });
    // the token is in the email only, never in the answer
    expect(created.body).not.toHaveProperty('token');
    expect(JSON.stringify(created.body)).not.toContain(token);
    const ttlMs = new Date(created.body.expiresAt).getTime() - new Date(created.body.createdAt).getTime();
    expect(Math.abs(ttlMs - 48 * 3600_000)).toBeLessThan(60_000);
    const [message] = emailsTo(email);
    expect(message).toMatchObject({
      category: 'invitation',
      idempotencyKey: `${created.body.flowId}:send-email:invitation-email`,
    });
    expect(message!.html).toContain(`href="https://app.example.test/invitations/accept?token=${token}"`);

    const stored = await cp.deps.db.query('SELECT * FROM invitations WHERE id = $1', [created.body.id]);
    expect(stored.rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored.rows[0])).not.toContain(token);
    const flow = await cp.deps.db.query('SELECT context FROM flows WHERE id = $1', [created.body.flowId]);
    expect(JSON.stringify(flow.rows[0])).not.toContain(token);
    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0].emailedAt).not.toBeNull();
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(JSON.stringify(listed.body)).not.toContain(stored.rows[0].token_hash);

    // the email matches whatever its case
    const invitee = await userWithEmail(email.toUpperCase());
    const accepted = await invitee.client.post('/v1/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({
      orgId: owner.orgId,
      role: 'admin',
      invitationId: created.body.id,
      flowId: expect.any(String),
    });
    expect((await invitee.client.get(`/v1/orgs/${owner.orgId}`)).body.role).toBe('admin');
    const after = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(after.body.data[0]).toMatchObject({ status: 'accepted', acceptedBy: invitee.userId });

    const again = await invitee.client.post('/v1/invitations/accept', { token });
    expect(again.status).toBe(409);
    expect(await cp.deps.flows.waitForCompletion(accepted.body.flowId, 5000)).toMatchObject({
      state: 'succeeded',
    });
    const audit = await cp.deps.db.query(
      `SELECT action, actor_id FROM audit_log WHERE target_id = $1 ORDER BY id`,
      [created.body.id],
    );
    expect(audit.rows.map((r: { action: string }) => r.action)).toEqual([
      'invitation.created',
      'invitation.accepted',
      'invitation.admins_notified',
    ]);
    expect(audit.rows[1].actor_id).toBe(invitee.userId);
  });

  it('tells every owner and admin, once each, who joined', async () => {
    const owner = await cp.newOrg('tellers');
    const admin = await userWithEmail(uniqueEmail('admin'));
    await addMember(owner.orgId, admin.userId, 'admin');
    const billing = await userWithEmail(uniqueEmail('billing'));
    await addMember(owner.orgId, billing.userId, 'billing');
    const email = uniqueEmail('joiner');
    const { token } = await invite(owner.client, owner.orgId, email, 'admin');
    const invitee = await userWithEmail(email);
    const accepted = await invitee.client.post('/v1/invitations/accept', { token });
    expect(await cp.deps.flows.waitForCompletion(accepted.body.flowId, 5000)).toMatchObject({
      state: 'succeeded',
    });
    const told = sent.filter((m) => m.idempotencyKey.startsWith(`${accepted.body.flowId}:`));
    const ownerEmail = (await owner.client.get('/v1/users/me')).body.email;
    const adminEmail = (await admin.client.get('/v1/users/me')).body.email;
    expect(told.map((m) => m.to).sort()).toEqual([ownerEmail, adminEmail].sort());
    expect(told.every((m) => m.category === 'member-joined' && m.subject.includes('joined'))).toBe(true);
    // one invitation email only for the invitee
    expect(emailsTo(email)).toHaveLength(1);
  });

  it('waits out an email provider outage and sends exactly one email', async () => {
    const owner = await cp.newOrg('outage');
    const email = uniqueEmail('patient');
    const outage = () =>
      Object.assign(new Error('Service Unavailable'), {
        code: 503,
        response: { headers: { 'retry-after': '0.2' }, body: { errors: [] } },
      });
    failures.push(outage(), outage(), outage());
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    expect(await cp.deps.flows.waitForCompletion(created.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    expect(failures).toHaveLength(0);
    expect(emailsTo(email)).toHaveLength(1);
    const token = tokenOf(created.body.flowId);
    const invitee = await userWithEmail(email);
    expect((await invitee.client.post('/v1/invitations/accept', { token })).status).toBe(200);
  });

  it('lets only an owner invite an owner, and only owners and admins invite at all', async () => {
    const owner = await cp.newOrg('owner-invites');
    const path = `/v1/orgs/${owner.orgId}/invitations`;
    const admin = await userWithEmail(uniqueEmail('admin'));
    await addMember(owner.orgId, admin.userId, 'admin');
    const member = await userWithEmail(uniqueEmail('member'));
    await addMember(owner.orgId, member.userId, 'member');
    const outsider = await cp.newOrg('outsiders');

    expect((await admin.client.post(path, { email: uniqueEmail('x'), role: 'owner' })).status).toBe(403);
    expect((await admin.client.post(path, { email: uniqueEmail('x'), role: 'admin' })).status).toBe(201);
    expect((await owner.client.post(path, { email: uniqueEmail('x'), role: 'owner' })).status).toBe(201);
    expect((await member.client.post(path, { email: uniqueEmail('x'), role: 'member' })).status).toBe(403);
    expect((await member.client.get(path)).status).toBe(403);
    expect((await outsider.client.get(path)).status).toBe(404);
    expect((await outsider.client.post(path, { email: uniqueEmail('x'), role: 'member' })).status).toBe(404);
  });

  it('refuses a second pending invitation and an email that is already a member', async () => {
    const owner = await cp.newOrg('dupes');
    const path = `/v1/orgs/${owner.orgId}/invitations`;
    const email = uniqueEmail('dup');
    expect((await owner.client.post(path, { email, role: 'member' })).status).toBe(201);
    const twice = await owner.client.post(path, { email: email.toUpperCase(), role: 'admin' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/pending invitation/);
    const flows = await flowCount(owner.orgId);
    const self = await owner.client.post(path, { email: owner.email, role: 'member' });
    expect(self.status).toBe(409);
    expect(self.body.error.message).toMatch(/already a member/);
    // nothing started, nothing sent
    expect(await flowCount(owner.orgId)).toBe(flows);
    expect(emailsTo(owner.email)).toHaveLength(0);
  });

  it('sends nothing for an invitation revoked while the email provider was down', async () => {
    const owner = await cp.newOrg('revoked-early');
    const email = uniqueEmail('never');
    failuresFor.set(email, [
      Object.assign(new Error('Service Unavailable'), {
        code: 503,
        response: { headers: { 'retry-after': '1' }, body: { errors: [] } },
      }),
    ]);
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    // the flow waits out the outage; the invitation is revoked meanwhile
    const waiting = async () =>
      (await cp.deps.db.query('SELECT state FROM flows WHERE id = $1', [created.body.flowId])).rows[0].state;
    for (let i = 0; i < 100 && (await waiting()) !== 'waiting'; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await waiting()).toBe('waiting');
    expect((await owner.client.delete(`/v1/orgs/${owner.orgId}/invitations/${created.body.id}`)).status).toBe(
      204,
    );
    expect(await cp.deps.flows.waitForCompletion(created.body.flowId, 5000)).toMatchObject({
      state: 'succeeded',
    });
    expect(emailsTo(email)).toHaveLength(0);
    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(listed.body.data[0]).toMatchObject({ status: 'revoked', emailedAt: null });
  });

  it('revokes a pending invitation; a revoked token cannot be used', async () => {
    const owner = await cp.newOrg('revokers');
    const other = await cp.newOrg('other-tenant');
    const email = uniqueEmail('revoked');
    const { created, token } = await invite(owner.client, owner.orgId, email);
    const path = `/v1/orgs/${owner.orgId}/invitations/${created.body.id}`;
    expect((await other.client.delete(path)).status).toBe(404);
    expect((await other.client.delete(`/v1/orgs/${other.orgId}/invitations/${created.body.id}`)).status).toBe(
      404,
    );
    expect((await owner.client.delete(path)).status).toBe(204);
    expect((await owner.client.delete(path)).status).toBe(409);
    expect(
      (await owner.client.delete(`/v1/orgs/${owner.orgId}/invitations/${crypto.randomUUID()}`)).status,
    ).toBe(404);
    const invitee = await userWithEmail(email);
    const refused = await invitee.client.post('/v1/invitations/accept', { token });
    expect(refused.status).toBe(409);
    expect((await invitee.client.get(`/v1/orgs/${owner.orgId}`)).status).toBe(404);
    expect(
      (await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' })).status,
    ).toBe(201);
  });

  it('answers 410 once the invitation has expired on the control plane clock', async () => {
    const owner = await cp.newOrg('expiry');
    const email = uniqueEmail('late');
    const { token } = await invite(owner.client, owner.orgId, email);
    await cp.deps.db.query('UPDATE clock SET offset_ms = $1', [49 * 3600_000]);
    const invitee = await userWithEmail(email);
    const late = await invitee.client.post('/v1/invitations/accept', { token });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('gone');
    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(listed.body.data[0].status).toBe('expired');
    // an expired invitation does not block a new one
    const renewed = await invite(owner.client, owner.orgId, email);
    expect(renewed.token).not.toBe(token);
    expect((await invitee.client.post('/v1/invitations/accept', { token: renewed.token })).status).toBe(200);
  });

  it('refuses another email, a member, an API key and an unknown token', async () => {
    const owner = await cp.newOrg('checks');
    const email = uniqueEmail('right');
    const { created, token } = await invite(owner.client, owner.orgId, email);
    const wrong = await userWithEmail(uniqueEmail('wrong'));
    expect((await wrong.client.post('/v1/invitations/accept', { token })).status).toBe(403);

    const already = await userWithEmail(email);
    await addMember(owner.orgId, already.userId, 'billing');
    const member = await already.client.post('/v1/invitations/accept', { token });
    expect(member.status).toBe(409);
    expect(member.body.error.message).toMatch(/already a member/);
    const still = await cp.deps.db.query('SELECT status FROM invitations WHERE id = $1', [created.body.id]);
    expect(still.rows[0].status).toBe('pending');

    const key = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'k', role: 'admin' });
    const byKey = await apiClient(cp.url, key.body.key).post('/v1/invitations/accept', { token });
    expect(byKey.status).toBe(403);
    expect((await wrong.client.post('/v1/invitations/accept', { token: 'pwinv_nope' })).status).toBe(404);
    expect((await cp.anonymous.post('/v1/invitations/accept', { token })).status).toBe(401);
  });

  it('makes exactly one membership out of concurrent accepts', async () => {
    const owner = await cp.newOrg('racers');
    const email = uniqueEmail('racer');
    const { token } = await invite(owner.client, owner.orgId, email);
    // several accounts with the invited address, each accepting twice at once
    const users = await Promise.all(Array.from({ length: 6 }, () => userWithEmail(email)));
    const results = await Promise.all(
      [...users, ...users].map((user) => user.client.post('/v1/invitations/accept', { token })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(11);
    const members = await cp.deps.db.query('SELECT count(*)::int AS n FROM memberships WHERE org_id = $1', [
      owner.orgId,
    ]);
    expect(members.rows[0].n).toBe(2); // the owner and one invitee
  });

  it('answers bad input with 400', async () => {
    const owner = await cp.newOrg('bad-invites');
    const path = `/v1/orgs/${owner.orgId}/invitations`;
    const before = { flows: await flowCount(owner.orgId), emails: sent.length };
    for (const body of [
      {},
      { email: 'not-an-email', role: 'member' },
      { email: uniqueEmail('x'), role: 'god' },
      { email: uniqueEmail('x'), role: 'member', token: 'x' },
    ]) {
      const res = await owner.client.post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await owner.client.post(path, '{"email"')).status).toBe(400);
    expect((await owner.client.delete(`${path}/123`)).status).toBe(400);
    expect((await owner.client.get(`${path}?limit=500`)).status).toBe(400);
    expect((await owner.client.get(`${path}?cursor=${crypto.randomUUID()}`)).status).toBe(400);
    for (const body of [
      {},
      { token: '' },
      { token: 'x'.repeat(201) },
      { token: 'abc', extra: true },
      { token: 5 },
    ]) {
      expect((await owner.client.post('/v1/invitations/accept', body)).status, JSON.stringify(body)).toBe(
        400,
      );
    }
    // nothing started, nothing sent, nothing stored
    expect({ flows: await flowCount(owner.orgId), emails: sent.length }).toEqual(before);
    expect((await owner.client.get(path)).body.data).toHaveLength(0);
  });

  it('pages through invitations with limit and cursor', async () => {
    const owner = await cp.newOrg('paging');
    const path = `/v1/orgs/${owner.orgId}/invitations`;
    const emails = [uniqueEmail('p1'), uniqueEmail('p2'), uniqueEmail('p3')];
    for (const email of emails) await owner.client.post(path, { email, role: 'member' });
    const first = await owner.client.get(`${path}?limit=2`);
    expect(first.body.data.map((i: { email: string }) => i.email)).toEqual([emails[2], emails[1]]);
    const second = await owner.client.get(`${path}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [{ email: emails[0] }], nextCursor: null });
  });
});
