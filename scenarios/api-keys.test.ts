// Create API key, end to end: a real control plane (child process) and the auth simulator's users.
// The key is shown once, works against the API in its own organization only, and stops working
// from the very next request once revoked; bad input starts nothing.
import { describe, expect } from 'vitest';
import { type ControlPlaneClient, scenario } from '../harness/fixtures.ts';

const test = scenario({ simulators: ['auth'] });

const flowsOf = async (admin: ControlPlaneClient, orgId: string, type = 'create-api-key') =>
  (await admin.get(`/v1/admin/flows?orgId=${orgId}&type=${type}&limit=200`)).body.data as {
    id: string;
    state: string;
  }[];

describe('create API key', () => {
  test('shown once, works against the API, revoked at once', async ({ env, tenant, admin, traces }) => {
    const created = await tenant.client.post(tenant.path('/api-keys'), { name: 'ci', role: 'admin' });
    expect(created.status).toBe(201);
    const { key, id, flowId, prefix } = created.body;
    expect(key).toMatch(new RegExp(`^pw_${prefix}_`));
    expect(created.body.status).toBe('active');
    // 201 means the create-api-key flow (quota, activation, audit) already finished
    expect((await admin.get(`/v1/admin/flows/${flowId}`)).body.state).toBe('succeeded');

    // never again: not in the list, not in the key's own page, not in the audit log
    const listed = await tenant.client.get(tenant.path('/api-keys'));
    const shown = await tenant.client.get(tenant.path(`/api-keys/${id}`));
    const audit = await tenant.client.get(tenant.path('/audit-log'));
    for (const answer of [listed, shown, audit]) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain(key);
    }
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([id]);

    // it works against the API, in its organization only
    const asKey = tenant.client.as(key);
    const org = await asKey.get(tenant.path(''));
    expect(org.status).toBe(200);
    expect(org.body.id).toBe(tenant.orgId);
    const other = await env.newUser('other-tenant');
    const otherOrg = await tenant.client
      .as(other.token)
      .post('/v1/orgs', { name: 'Other', slug: `other-${tenant.orgId.slice(0, 8)}` });
    expect((await asKey.get(`/v1/orgs/${otherOrg.body.id}`)).status).toBe(404);
    // a key cannot mint keys
    expect((await asKey.post(tenant.path('/api-keys'), { name: 'more', role: 'member' })).status).toBe(403);

    // revoked: the very next request is refused
    expect((await tenant.client.delete(tenant.path(`/api-keys/${id}`))).status).toBe(204);
    const after = await asKey.get(tenant.path(''));
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    // revoking again is a no-op
    expect((await tenant.client.delete(tenant.path(`/api-keys/${id}`))).status).toBe(204);
    const revoked = await tenant.client.get(tenant.path(`/api-keys/${id}`));
    expect(revoked.body.status).toBe('revoked');
    const actions = (await tenant.client.get(tenant.path('/audit-log'))).body.data.map(
      (entry: { action: string }) => entry.action,
    );
    expect(actions.filter((a: string) => a === 'api_key.created')).toHaveLength(1);
    expect(actions.filter((a: string) => a === 'api_key.revoked')).toHaveLength(1);

    // the request and the flow's steps are one trace
    const spans = await traces.store.waitFor({
      flowId,
      names: ['flow create-api-key check-quota', 'flow create-api-key activate', 'flow create-api-key audit'],
    });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });

  test('many requests with a key revoked in between: none after the revocation succeeds', async ({
    tenant,
  }) => {
    const created = await tenant.client.post(tenant.path('/api-keys'), { name: 'busy', role: 'member' });
    const asKey = tenant.client.as(created.body.key);
    expect((await asKey.get(tenant.path(''))).status).toBe(200);
    const revoked = await tenant.client.delete(tenant.path(`/api-keys/${created.body.id}`));
    expect(revoked.status).toBe(204);
    const answers = await Promise.all(Array.from({ length: 10 }, () => asKey.get(tenant.path(''))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 401));
  });

  test('bad input: a clear 4xx, nothing started, nothing lost', async ({ tenant, admin }) => {
    const kept = await tenant.client.post(tenant.path('/api-keys'), { name: 'kept', role: 'member' });
    expect(kept.status).toBe(201);
    const flows = (await flowsOf(admin, tenant.orgId)).length;
    const path = tenant.path('/api-keys');
    for (const body of [
      {},
      { name: '', role: 'member' },
      { name: '   ', role: 'member' },
      { name: 'x'.repeat(101), role: 'member' },
      { name: 'ok', role: 'root' },
      { name: 'ok', role: 'member', key: 'pw_mine' },
    ]) {
      const answer = await tenant.client.post(path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    expect(
      (await tenant.client.request('POST', path, undefined, { 'content-type': 'text/plain' })).status,
    ).toBe(400);
    expect((await tenant.client.delete(`${path}/not-a-uuid`)).status).toBe(400);
    expect((await tenant.client.delete(`${path}/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await tenant.client.get(`${path}?limit=0`)).status).toBe(400);
    // a key cannot create keys, whatever its role
    const owner = await tenant.client.post(path, { name: 'owner-key', role: 'owner' });
    expect(owner.status).toBe(201);
    expect((await tenant.client.as(owner.body.key).post(path, { name: 'x', role: 'member' })).status).toBe(
      403,
    );

    // nothing started but the owner key's flow; the kept key still works
    expect((await flowsOf(admin, tenant.orgId)).length).toBe(flows + 1);
    const listed = await tenant.client.get(path);
    expect(listed.body.data.map((k: { name: string }) => k.name).sort()).toEqual(['kept', 'owner-key']);
    expect((await tenant.client.as(kept.body.key).get(tenant.path(''))).status).toBe(200);
  });
});
