import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

async function memberWith(orgId: string, role: string) {
  const user = await cp.newUser(role);
  await user.client.get('/v1/users/me');
  const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [user.sub]);
  await cp.deps.db.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [
    orgId,
    rows[0].id,
    role,
  ]);
  return user;
}

describe('audit log', () => {
  it('lists the organization’s changes newest first with actor, target, data and request id', async () => {
    const owner = await cp.newOrg('audited');
    const renamed = await owner.client.patch(`/v1/orgs/${owner.orgId}`, { name: 'Audited Inc' });
    const key = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, { name: 'ci', role: 'member' });
    const log = await owner.client.get(`/v1/orgs/${owner.orgId}/audit-log`);
    expect(log.status).toBe(200);
    expect(log.body.data.map((e: { action: string }) => e.action)).toEqual([
      'api_key.created',
      'organization.renamed',
      'organization.created',
    ]);
    const [created, rename] = log.body.data;
    expect(created).toMatchObject({
      actor: { type: 'flow', id: key.body.flowId },
      target: { type: 'api_key', id: key.body.id },
      data: { name: 'ci', role: 'member' },
      requestId: key.headers.get('x-request-id'),
    });
    expect(rename).toMatchObject({
      actor: { type: 'user' },
      target: { type: 'organization', id: owner.orgId },
      data: { name: 'Audited Inc' },
      requestId: renamed.headers.get('x-request-id'),
    });
    expect(new Date(rename.createdAt).getTime()).toBeLessThanOrEqual(new Date(created.createdAt).getTime());
    expect(log.body.nextCursor).toBeNull();
    expect(JSON.stringify(log.body)).not.toContain(key.body.key);
  });

  it('pages with limit and cursor and filters by action', async () => {
    const owner = await cp.newOrg('paged');
    for (const name of ['one', 'two', 'three', 'four']) {
      await owner.client.patch(`/v1/orgs/${owner.orgId}`, { name });
    }
    const path = `/v1/orgs/${owner.orgId}/audit-log`;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: {
        body: { data: { action: string; data: { name: string } }[]; nextCursor: string | null };
      } = await owner.client.get(`${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((e) => `${e.action} ${e.data.name}`));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      'organization.renamed four',
      'organization.renamed three',
      'organization.renamed two',
      'organization.renamed one',
      'organization.created paged',
    ]);

    const renames = await owner.client.get(`${path}?action=organization.renamed&limit=3`);
    expect(renames.body.data.map((e: { data: { name: string } }) => e.data.name)).toEqual([
      'four',
      'three',
      'two',
    ]);
    expect(renames.body.nextCursor).toBe(renames.body.data[2].id);
    expect((await owner.client.get(`${path}?action=nothing.happened`)).body).toEqual({
      data: [],
      nextCursor: null,
    });
  });

  it('is readable by owners and admins only, and shows nothing of other organizations', async () => {
    const owner = await cp.newOrg('private');
    const other = await cp.newOrg('nosy');
    const path = `/v1/orgs/${owner.orgId}/audit-log`;
    const admin = await memberWith(owner.orgId, 'admin');
    const billing = await memberWith(owner.orgId, 'billing');
    expect((await admin.client.get(path)).status).toBe(200);
    expect((await billing.client.get(path)).status).toBe(403);
    expect((await other.client.get(path)).status).toBe(404);
    const memberKey = await owner.client.post(`/v1/orgs/${owner.orgId}/api-keys`, {
      name: 'm',
      role: 'member',
    });
    expect((await apiClient(cp.url, memberKey.body.key).get(path)).status).toBe(403);
    const ownLog = await other.client.get(`/v1/orgs/${other.orgId}/audit-log`);
    expect(ownLog.body.data.every((e: { target: { id: string } }) => e.target.id !== owner.orgId)).toBe(true);
    expect(ownLog.body.data).toHaveLength(1);
  });

  it('answers bad query values with 400', async () => {
    const owner = await cp.newOrg('bad-audit');
    const path = `/v1/orgs/${owner.orgId}/audit-log`;
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'cursor=-1',
      'cursor=abc',
      'cursor=99999999999999999999',
      'action=DROP%20TABLE',
      'limit=1&limit=2',
    ]) {
      const res = await owner.client.get(`${path}?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await owner.client.get('/v1/orgs/not-a-uuid/audit-log')).status).toBe(400);
  });
});
