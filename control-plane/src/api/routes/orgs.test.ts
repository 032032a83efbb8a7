import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

describe('organizations', () => {
  it('creates an organization whose creator is owner and whose billing account is trialing', async () => {
    const user = await cp.newUser('ada');
    const created = await user.client.post('/v1/orgs', { name: 'Ada Labs', slug: 'ada-labs' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Ada Labs', slug: 'ada-labs', role: 'owner' });
    const list = await user.client.get('/v1/orgs');
    expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([created.body.id]);
    const billing = await cp.deps.db.query('SELECT plan, status FROM billing_accounts WHERE org_id = $1', [
      created.body.id,
    ]);
    expect(billing.rows[0]).toEqual({ plan: 'trial', status: 'trialing' });
    const taken = await user.client.post('/v1/orgs', { name: 'Other', slug: 'ada-labs' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('conflict');
  });

  it('rejects missing, forged and expired tokens with 401', async () => {
    expect((await cp.anonymous.get('/v1/orgs')).status).toBe(401);
    const forged = await cp.auth.forgedToken('auth0|mallory');
    const res = await fetch(`${cp.url}/v1/orgs`, { headers: { authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
    const expired = await cp.auth.token({
      sub: 'auth0|late',
      iat: Math.floor(Date.now() / 1000) - 7200,
      exp: Math.floor(Date.now() / 1000) - 3600,
    });
    const late = await fetch(`${cp.url}/v1/orgs`, { headers: { authorization: `Bearer ${expired}` } });
    expect(late.status).toBe(401);
    expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('answers bad input with a 400 naming the field, and invalid JSON with invalid_json', async () => {
    const user = await cp.newUser();
    const bad = await user.client.post('/v1/orgs', { name: '', slug: 'NOT OK' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'name',
      'slug',
    ]);
    expect(bad.body.error.requestId).toMatch(/^req_/);
    const json = await user.client.post('/v1/orgs', '{"name":');
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid_json');
    const extra = await user.client.post('/v1/orgs', { name: 'x', slug: 'xyz-1', plan: 'free' });
    expect(extra.status).toBe(400);
  });

  it('manages member roles and keeps at least one owner', async () => {
    const owner = await cp.newOrg('roles');
    const other = await cp.newUser('bob');
    await other.client.get('/v1/orgs'); // first call registers the user
    const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [other.sub]);
    const bobId = rows[0].id;
    await cp.deps.db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'member')`, [
      owner.orgId,
      bobId,
    ]);
    expect(
      (await other.client.patch(`/v1/orgs/${owner.orgId}/members/${bobId}`, { role: 'admin' })).status,
    ).toBe(403);
    expect(
      (await owner.client.patch(`/v1/orgs/${owner.orgId}/members/${bobId}`, { role: 'admin' })).body,
    ).toEqual({
      userId: bobId,
      role: 'admin',
    });
    const members = await other.client.get(`/v1/orgs/${owner.orgId}/members`);
    expect(members.body.data).toHaveLength(2);
    const ownerId = members.body.data.find((m: { role: string }) => m.role === 'owner').userId;
    const lastOwner = await owner.client.delete(`/v1/orgs/${owner.orgId}/members/${ownerId}`);
    expect(lastOwner.status).toBe(409);
    expect((await other.client.delete(`/v1/orgs/${owner.orgId}/members/${ownerId}`)).status).toBe(403);
    expect((await other.client.delete(`/v1/orgs/${owner.orgId}/members/${bobId}`)).status).toBe(204);
    expect((await other.client.get(`/v1/orgs/${owner.orgId}`)).status).toBe(404);
  });

  it('revokes the keys a demoted member could no longer make, and lets no API key change roles', async () => {
    const owner = await cp.newOrg('demote');
    const dana = await cp.newUser('dana');
    await dana.client.get('/v1/users/me');
    const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [dana.sub]);
    const danaId = rows[0].id;
    await cp.deps.db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')`, [
      owner.orgId,
      danaId,
    ]);
    const key = await dana.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'ci', role: 'admin' });
    expect(key.status).toBe(201);
    const asKey = apiClient(cp.url, key.body.key);
    expect((await asKey.get(`/v1/orgs/${owner.orgId}/members`)).status).toBe(200);
    expect((await asKey.patch(`/v1/orgs/${owner.orgId}/members/${danaId}`, { role: 'owner' })).status).toBe(
      403,
    );
    expect(
      (await asKey.post(`/v1/orgs/${owner.orgId}/invitations`, { email: 'x@example.test', role: 'admin' }))
        .status,
    ).toBe(403);

    const demoted = await owner.client.patch(`/v1/orgs/${owner.orgId}/members/${danaId}`, { role: 'member' });
    expect(demoted.status).toBe(200);
    expect((await asKey.get(`/v1/orgs/${owner.orgId}/members`)).status).toBe(401);
  });

  it('deletes an organization: hidden at once, keys and invitations revoked, purged after retention, audit kept', async () => {
    const owner = await cp.newOrg('doomed');
    const base = `/v1/orgs/${owner.orgId}`;
    const key = await owner.client.post(`${base}/api-keys`, { name: 'ci', role: 'owner' });
    expect(key.status).toBe(201);
    const asKey = apiClient(cp.url, key.body.key);
    await cp.deps.flows.waitForCompletion(key.body.flowId, 10_000);
    // only a signed-in owner may delete it: an owner API key may not
    expect((await asKey.delete(base)).status).toBe(403);
    const invited = await owner.client.post(`${base}/invitations`, {
      email: 'x@example.test',
      role: 'member',
    });
    expect(invited.status).toBe(201);

    const deletion = await owner.client.delete(base);
    expect(deletion.status).toBe(202);
    expect(deletion.body).toEqual({ flowId: expect.any(String), purgeAfter: expect.any(String) });
    expect((await owner.client.get(base)).status).toBe(404);
    expect((await owner.client.delete(base)).status).toBe(404);
    expect((await asKey.get(`${base}/members`)).status).toBe(401);
    const invitations = await cp.deps.db.query('SELECT status FROM invitations WHERE org_id = $1', [
      owner.orgId,
    ]);
    expect(invitations.rows.map((row) => row.status)).toEqual(['revoked']);

    // without vendors there is nothing to cancel; the flow waits for the retention period
    for (let waited = 0; waited < 10_000; waited += 50) {
      const { rows } = await cp.deps.db.query('SELECT state, current_step FROM flows WHERE id = $1', [
        deletion.body.flowId,
      ]);
      if (rows[0].state === 'waiting' && rows[0].current_step === 'await-retention') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(
      (await cp.deps.db.query('SELECT 1 FROM organizations WHERE id = $1', [owner.orgId])).rowCount,
    ).toBe(1);
    const moved = await cp.admin.post('/v1/admin/clock', {
      advanceMs: cp.deps.config.TENANT_RETENTION_MS + 1_000,
    });
    expect(moved.status).toBe(200);
    expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 10_000)).toMatchObject({
      state: 'succeeded',
    });
    expect(
      (await cp.deps.db.query('SELECT 1 FROM organizations WHERE id = $1', [owner.orgId])).rowCount,
    ).toBe(0);
    const audit = await cp.deps.db.query('SELECT action FROM audit_log WHERE org_id = $1 ORDER BY id', [
      owner.orgId,
    ]);
    expect(audit.rows.map((row) => row.action)).toEqual(
      expect.arrayContaining(['organization.deletion_requested', 'user.deleted', 'organization.purged']),
    );
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await cp.anonymous.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await cp.anonymous.get('/readyz')).body).toEqual({ status: 'ready' });
    const metrics = await cp.anonymous.get('/metrics');
    expect(metrics.body).toContain('planewright_http_request_duration_seconds');
    const doc = await cp.anonymous.get('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/v1/orgs/{orgId}/members/{userId}'].patch).toBeDefined();
    expect((await cp.anonymous.get('/v1/nope')).status).toBe(404);
  });
});
