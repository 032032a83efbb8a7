import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

/** A new user who holds `role` in `orgId`. */
async function memberWith(target: TestControlPlane, orgId: string, role: string) {
  const user = await target.newUser(role);
  await user.client.get('/v1/users/me'); // the first call registers the user
  const { rows } = await target.deps.db.query('SELECT id FROM users WHERE subject = $1', [user.sub]);
  await target.deps.db.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [
    orgId,
    rows[0].id,
    role,
  ]);
  return { ...user, userId: rows[0].id as string };
}

/** Inserts `count` active keys straight into the database (their secrets are never used). */
async function fillKeys(orgId: string, count: number) {
  await cp.deps.db.query(
    `INSERT INTO api_keys (org_id, name, prefix, secret_hash, role, activated_at)
     SELECT $1, 'filler ' || n, substr(md5(random()::text), 1, 12), md5(random()::text), 'member', now()
       FROM generate_series(1, $2) n`,
    [orgId, count],
  );
}

describe('API keys', () => {
  it('shows the secret once, stores only its hash, and the key authenticates', async () => {
    const owner = await cp.newOrg('keys');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, {
      name: 'ci',
      role: 'admin',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci', role: 'admin', status: 'active' });
    const secret: string = created.body.key;
    expect(secret).toMatch(new RegExp(`^pw_${created.body.prefix}_`));

    const stored = await cp.deps.db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
    expect(stored.rows[0].secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(stored.rows[0])).not.toContain(secret.slice(16));
    const flow = await cp.deps.db.query('SELECT context FROM flows WHERE id = $1', [created.body.flowId]);
    expect(JSON.stringify(flow.rows[0].context)).not.toContain(secret.slice(16));

    const listed = await owner.client.get(`/v1/orgs/${owner.orgId}/api-keys`);
    const one = await owner.client.get(`/v1/orgs/${owner.orgId}/api-keys/${created.body.id}`);
    expect(listed.body.data).toEqual([one.body]);
    expect(one.body).toMatchObject({ id: created.body.id, prefix: created.body.prefix, status: 'active' });
    for (const body of [listed.body, one.body]) {
      expect(JSON.stringify(body)).not.toContain(secret.slice(16));
      expect(JSON.stringify(body)).not.toContain(stored.rows[0].secret_hash);
    }

    const asKey = apiClient(cp.url, secret);
    const org = await asKey.get(`/v1/orgs/${owner.orgId}`);
    expect(org.status).toBe(200);
    expect(org.body.role).toBe('admin');
    const audit = await cp.deps.db.query(
      `SELECT actor_type, actor_id, request_id FROM audit_log WHERE action = 'api_key.created' AND target_id = $1`,
      [created.body.id],
    );
    expect(audit.rows).toEqual([
      { actor_type: 'flow', actor_id: created.body.flowId, request_id: created.headers.get('x-request-id') },
    ]);
    const steps = await cp.admin.get(`/v1/admin/flows/${created.body.flowId}`);
    expect(steps.body.steps.map((s: { step: string }) => s.step)).toEqual([
      'check-quota',
      'activate',
      'audit',
    ]);
  });

  it('revokes a key at once, and revoking again is a no-op 204', async () => {
    const owner = await cp.newOrg('revoke');
    const created = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, {
      name: 'bot',
      role: 'member',
    });
    const asKey = apiClient(cp.url, created.body.key);
    expect((await asKey.get(`/v1/orgs/${owner.orgId}`)).status).toBe(200);
    expect((await owner.client.delete(`/v1/orgs/${owner.orgId}/api-keys/${created.body.id}`)).status).toBe(
      204,
    );
    expect((await asKey.get(`/v1/orgs/${owner.orgId}`)).status).toBe(401);
    expect((await owner.client.delete(`/v1/orgs/${owner.orgId}/api-keys/${created.body.id}`)).status).toBe(
      204,
    );
    const audit = await cp.deps.db.query(
      `SELECT 1 FROM audit_log WHERE action = 'api_key.revoked' AND target_id = $1`,
      [created.body.id],
    );
    expect(audit.rowCount).toBe(1);
    expect((await owner.client.get(`/v1/orgs/${owner.orgId}/api-keys`)).body.data).toEqual([]);
    const all = await owner.client.get(`/v1/orgs/${owner.orgId}/api-keys?includeRevoked=true`);
    expect(all.body.data.map((k: { status: string }) => k.status)).toEqual(['revoked']);
  });

  it('keeps a key within its creator’s rights and keeps keys from making keys', async () => {
    const owner = await cp.newOrg('rights');
    const path = `/v1/orgs/${owner.orgId}/api-keys`;
    const admin = await memberWith(cp, owner.orgId, 'admin');
    const member = await memberWith(cp, owner.orgId, 'member');
    expect((await admin.client.post(path, { name: 'root', role: 'owner' })).status).toBe(403);
    const adminKey = await admin.client.post(path, { name: 'deploy', role: 'admin' });
    expect(adminKey.status).toBe(201);
    expect((await owner.client.post(path, { name: 'root', role: 'owner' })).status).toBe(201);
    expect((await member.client.post(path, { name: 'x', role: 'member' })).status).toBe(403);
    expect((await member.client.get(path)).status).toBe(403);
    const asKey = apiClient(cp.url, adminKey.body.key);
    const byKey = await asKey.post(path, { name: 'child', role: 'member' });
    expect(byKey.status).toBe(403);
    expect(byKey.body.error.message).toMatch(/API key cannot create/);
    const ownerKey = (await owner.client.get(path)).body.data.find(
      (k: { role: string }) => k.role === 'owner',
    );
    expect((await admin.client.delete(`${path}/${ownerKey.id}`)).status).toBe(403);
  });

  it('answers outsiders and other tenants’ keys with 404', async () => {
    const a = await cp.newOrg('tenant-a');
    const b = await cp.newOrg('tenant-b');
    const keyOfA = await a.client.post(`/v1/orgs/${a.orgId}/api-keys`, { name: 'a', role: 'member' });
    expect((await b.client.get(`/v1/orgs/${a.orgId}/api-keys`)).status).toBe(404);
    expect((await b.client.post(`/v1/orgs/${a.orgId}/api-keys`, { name: 'x', role: 'member' })).status).toBe(
      404,
    );
    expect((await b.client.get(`/v1/orgs/${a.orgId}/api-keys/${keyOfA.body.id}`)).status).toBe(404);
    expect((await b.client.get(`/v1/orgs/${b.orgId}/api-keys/${keyOfA.body.id}`)).status).toBe(404);
    expect((await b.client.delete(`/v1/orgs/${b.orgId}/api-keys/${keyOfA.body.id}`)).status).toBe(404);
    expect((await apiClient(cp.url, keyOfA.body.key).get(`/v1/orgs/${b.orgId}`)).status).toBe(404);
    expect((await a.client.get(`/v1/orgs/${a.orgId}/api-keys/${keyOfA.body.id}`)).body.revokedAt).toBeNull();
  });

  it('answers bad input with 400', async () => {
    const owner = await cp.newOrg('bad-keys');
    const path = `/v1/orgs/${owner.orgId}/api-keys`;
    for (const body of [
      {},
      { name: '', role: 'admin' },
      { name: 'x', role: 'root' },
      { name: 'x', role: 'admin', extra: 1 },
    ]) {
      const res = await owner.client.post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await owner.client.post(path, '{"name":')).status).toBe(400);
    expect((await owner.client.get(`${path}/not-a-uuid`)).status).toBe(400);
    expect((await owner.client.delete(`${path}/not-a-uuid`)).status).toBe(400);
    expect((await owner.client.get(`/v1/orgs/nope/api-keys`)).status).toBe(400);
    expect((await owner.client.get(`${path}?limit=0`)).status).toBe(400);
    expect((await owner.client.get(`${path}?cursor=${crypto.randomUUID()}`)).status).toBe(400);
    expect((await apiClient(cp.url, 'pw_short').get('/v1/orgs')).status).toBe(401);
  });

  it('pages through keys with limit and cursor', async () => {
    const owner = await cp.newOrg('pages');
    const path = `/v1/orgs/${owner.orgId}/api-keys`;
    for (const name of ['k1', 'k2', 'k3']) await owner.client.post(path, { name, role: 'member' });
    const first = await owner.client.get(`${path}?limit=2`);
    expect(first.body.data.map((k: { name: string }) => k.name)).toEqual(['k3', 'k2']);
    const second = await owner.client.get(`${path}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [{ name: 'k1' }], nextCursor: null });
  });

  it('refuses a key over the quota of 25 active keys and revokes it', async () => {
    const owner = await cp.newOrg('quota');
    await fillKeys(owner.orgId, 25);
    const refused = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, {
      name: 'one more',
      role: 'member',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/already has 25 active API keys/);
    const { rows } = await cp.deps.db.query('SELECT revoked_at, activated_at FROM api_keys WHERE name = $1', [
      'one more',
    ]);
    expect(rows[0].revoked_at).not.toBeNull();
    expect(rows[0].activated_at).toBeNull();
  });

  it('lets only one of three concurrent keys take the last free slot', async () => {
    const owner = await cp.newOrg('race');
    await fillKeys(owner.orgId, 24);
    const results = await Promise.all(
      ['r1', 'r2', 'r3'].map((name) =>
        owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name, role: 'member' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const active = await cp.deps.db.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE org_id = $1 AND activated_at IS NOT NULL AND revoked_at IS NULL',
      [owner.orgId],
    );
    expect(active.rows[0].n).toBe(25);
  });

  it('never accepts a key that is not activated', async () => {
    const owner = await cp.newOrg('inactive');
    const key = 'pw_abcdef012345_' + 'A'.repeat(43);
    await cp.deps.db.query(
      `INSERT INTO api_keys (org_id, name, prefix, secret_hash, role) VALUES ($1, 'raw', 'abcdef012345', $2, 'admin')`,
      [owner.orgId, createHash('sha256').update(key).digest('hex')],
    );
    expect((await apiClient(cp.url, key).get(`/v1/orgs/${owner.orgId}`)).status).toBe(401);
    await cp.deps.db.query(`UPDATE api_keys SET activated_at = now() WHERE prefix = 'abcdef012345'`);
    expect((await apiClient(cp.url, key).get(`/v1/orgs/${owner.orgId}`)).status).toBe(200);
  });
});

describe('API keys while the flow worker is away', () => {
  let idle: TestControlPlane;
  beforeAll(async () => {
    idle = await startTestControlPlane({ FLOW_WORKER_ENABLED: 'false' });
  });
  afterAll(() => idle?.close());

  it('answers 202 with the key pending; the key works once the flow activates it', async () => {
    const owner = await idle.newOrg('slow');
    const pending = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, {
      name: 'later',
      role: 'member',
    });
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ status: 'pending', activatedAt: null });
    const asKey = apiClient(idle.url, pending.body.key);
    expect((await asKey.get(`/v1/orgs/${owner.orgId}`)).status).toBe(401);
    await idle.deps.flows.start();
    expect(await idle.deps.flows.waitForCompletion(pending.body.flowId, 5000)).toMatchObject({
      state: 'succeeded',
    });
    expect((await asKey.get(`/v1/orgs/${owner.orgId}`)).status).toBe(200);
    const one = await owner.client.get(`/v1/orgs/${owner.orgId}/api-keys/${pending.body.id}`);
    expect(one.body.status).toBe('active');
  });
});
