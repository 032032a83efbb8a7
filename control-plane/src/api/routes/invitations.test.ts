import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane({ INVITATION_TTL_HOURS: '48' });
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

describe('invitations', () => {
  it('invites by email; the one-time token is stored hashed and joins the invitee with the role', async () => {
    const owner = await cp.newOrg('inviters');
    const email = uniqueEmail('Grace');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'admin' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email,
      role: 'admin',
      status: 'pending',
      acceptPath: '/v1/invitations/accept',
    });
    const ttlMs = new Date(created.body.expiresAt).getTime() - new Date(created.body.createdAt).getTime();
    expect(Math.abs(ttlMs - 48 * 3600_000)).toBeLessThan(60_000);
    const token: string = created.body.token;

    const stored = await cp.deps.db.query('SELECT * FROM invitations WHERE id = $1', [created.body.id]);
    expect(stored.rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored.rows[0])).not.toContain(token);
    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(listed.body.data).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(JSON.stringify(listed.body)).not.toContain(stored.rows[0].token_hash);

    // the email matches whatever its case
    const invitee = await userWithEmail(email.toUpperCase());
    const accepted = await invitee.client.post('/v1/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ orgId: owner.orgId, role: 'admin', invitationId: created.body.id });
    expect((await invitee.client.get(`/v1/orgs/${owner.orgId}`)).body.role).toBe('admin');
    const after = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(after.body.data[0]).toMatchObject({ status: 'accepted', acceptedBy: invitee.userId });

    const again = await invitee.client.post('/v1/invitations/accept', { token });
    expect(again.status).toBe(409);
    const audit = await cp.deps.db.query(
      `SELECT action, actor_id FROM audit_log WHERE target_id = $1 ORDER BY id`,
      [created.body.id],
    );
    expect(audit.rows.map((r: { action: string }) => r.action)).toEqual([
      'invitation.created',
      'invitation.accepted',
    ]);
    expect(audit.rows[1].actor_id).toBe(invitee.userId);
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
    const self = await owner.client.post(path, { email: owner.email, role: 'member' });
    expect(self.status).toBe(409);
    expect(self.body.error.message).toMatch(/already a member/);
  });

  it('revokes a pending invitation; a revoked token cannot be used', async () => {
    const owner = await cp.newOrg('revokers');
    const other = await cp.newOrg('other-tenant');
    const email = uniqueEmail('revoked');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
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
    const refused = await invitee.client.post('/v1/invitations/accept', { token: created.body.token });
    expect(refused.status).toBe(409);
    expect((await invitee.client.get(`/v1/orgs/${owner.orgId}`)).status).toBe(404);
    expect(
      (await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' })).status,
    ).toBe(201);
  });

  it('answers 410 once the invitation has expired on the control plane clock', async () => {
    const owner = await cp.newOrg('expiry');
    const email = uniqueEmail('late');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    await cp.deps.db.query('UPDATE clock SET offset_ms = $1', [49 * 3600_000]);
    const invitee = await userWithEmail(email);
    const late = await invitee.client.post('/v1/invitations/accept', { token: created.body.token });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('gone');
    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/invitations`);
    expect(listed.body.data[0].status).toBe('expired');
    // an expired invitation does not block a new one
    const renewed = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    expect(renewed.status).toBe(201);
    expect((await invitee.client.post('/v1/invitations/accept', { token: renewed.body.token })).status).toBe(
      200,
    );
  });

  it('refuses another email, a member, an API key and an unknown token', async () => {
    const owner = await cp.newOrg('checks');
    const email = uniqueEmail('right');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    const wrong = await userWithEmail(uniqueEmail('wrong'));
    expect((await wrong.client.post('/v1/invitations/accept', { token: created.body.token })).status).toBe(
      403,
    );

    const already = await userWithEmail(email);
    await addMember(owner.orgId, already.userId, 'billing');
    const member = await already.client.post('/v1/invitations/accept', { token: created.body.token });
    expect(member.status).toBe(409);
    expect(member.body.error.message).toMatch(/already a member/);
    const still = await cp.deps.db.query('SELECT status FROM invitations WHERE id = $1', [created.body.id]);
    expect(still.rows[0].status).toBe('pending');

    const key = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'k', role: 'admin' });
    const byKey = await apiClient(cp.url, key.body.key).post('/v1/invitations/accept', {
      token: created.body.token,
    });
    expect(byKey.status).toBe(403);
    expect((await wrong.client.post('/v1/invitations/accept', { token: 'pwinv_nope' })).status).toBe(404);
    expect((await cp.anonymous.post('/v1/invitations/accept', { token: created.body.token })).status).toBe(
      401,
    );
  });

  it('makes exactly one membership out of concurrent accepts', async () => {
    const owner = await cp.newOrg('racers');
    const email = uniqueEmail('racer');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/invitations`, { email, role: 'member' });
    // several accounts with the invited address, each accepting twice at once
    const users = await Promise.all(Array.from({ length: 6 }, () => userWithEmail(email)));
    const results = await Promise.all(
      [...users, ...users].map((user) =>
        user.client.post('/v1/invitations/accept', { token: created.body.token }),
      ),
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
