import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

async function userId(sub: string): Promise<string> {
  const { rows } = await cp.deps.db.query('SELECT id FROM users WHERE subject = $1', [sub]);
  return rows[0].id;
}

describe('delete user', () => {
  it('revokes sessions and keys, removes memberships, erases personal data and keeps the audit', async () => {
    const owner = await cp.newOrg('deleters');
    const bob = await cp.newUser('bob');
    expect((await bob.client.get('/v1/users/me')).body.email).toBe(bob.email);
    const bobId = await userId(bob.sub);
    await cp.deps.db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')`, [
      owner.orgId,
      bobId,
    ]);
    await cp.deps.db.query(
      `INSERT INTO api_keys (org_id, name, prefix, secret_hash, role, created_by) VALUES ($1, 'ci', 'bobkey000001', 'x', 'admin', $2)`,
      [owner.orgId, bobId],
    );

    await cp.deps.db.query(`UPDATE users SET phone = '+14155550123' WHERE id = $1`, [bobId]);
    const deletion = await bob.client.delete('/v1/users/me');
    expect(deletion.status).toBe(202);
    expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 5000)).toEqual({
      state: 'succeeded',
      lastError: null,
    });

    expect((await bob.client.get('/v1/users/me')).status).toBe(401);
    const user = await cp.deps.db.query('SELECT email, name, phone, deleted_at FROM users WHERE id = $1', [
      bobId,
    ]);
    expect(user.rows[0]).toMatchObject({ email: null, name: null, phone: null });
    expect(user.rows[0].deleted_at).not.toBeNull();
    const keys = await cp.deps.db.query('SELECT revoked_at FROM api_keys WHERE created_by = $1', [bobId]);
    expect(keys.rows[0].revoked_at).not.toBeNull();
    const members = await owner.client.get(`/v1/orgs/${owner.orgId}/members`);
    expect(members.body.data.map((m: { userId: string }) => m.userId)).not.toContain(bobId);
    const audit = await cp.deps.db.query(
      `SELECT action, org_id FROM audit_log WHERE target_id = $1 AND actor_type = 'flow' ORDER BY id`,
      [bobId],
    );
    expect(audit.rows).toEqual([
      { action: 'member.deleted', org_id: owner.orgId },
      { action: 'user.deleted', org_id: null },
    ]);
    const flow = await cp.admin.get(`/v1/admin/flows/${deletion.body.flowId}`);
    expect(flow.body.steps.map((s: { step: string }) => s.step)).toEqual([
      'revoke-sessions',
      'revoke-api-keys',
      'remove-memberships',
      'delete-auth-user',
      'erase-user',
    ]);
    // no Management API configured here: the audit says the user stays at the provider
    expect(flow.body.context.authProvider).toBe('not configured');
  });

  it('deletes the user at the auth provider; a 404 on a retry counts as done', async () => {
    const dave = await cp.newUser('dave');
    await dave.client.get('/v1/users/me');
    const deleted: string[] = [];
    // the first call deletes, but its answer is lost (a 503); the retry finds the user gone (404)
    const fakeAuth = {
      users: {
        async delete(id: string) {
          const again = deleted.includes(id);
          deleted.push(id);
          throw Object.assign(new Error(again ? 'The user does not exist.' : 'Service Unavailable'), {
            statusCode: again ? 404 : 503,
          });
        },
      },
    };
    Object.assign(cp.deps.vendors, { auth: fakeAuth });
    try {
      const deletion = await dave.client.delete('/v1/users/me');
      expect(await cp.deps.flows.waitForCompletion(deletion.body.flowId, 5000)).toEqual({
        state: 'succeeded',
        lastError: null,
      });
      expect(deleted).toEqual([dave.sub, dave.sub]);
      const audit = await cp.deps.db.query(
        `SELECT data FROM audit_log WHERE target_id = $1 AND action = 'user.deleted'`,
        [await userId(dave.sub)],
      );
      expect(audit.rows[0].data).toMatchObject({ requestedBy: 'self', authProvider: 'deleted' });
    } finally {
      delete cp.deps.vendors.auth;
    }
  });

  it('refuses to orphan an organization, and lets the operator delete a user', async () => {
    const owner = await cp.newOrg('solo');
    const carol = await cp.newUser('carol');
    await carol.client.get('/v1/users/me');
    await cp.deps.db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'member')`, [
      owner.orgId,
      await userId(carol.sub),
    ]);
    const refused = await owner.client.delete('/v1/users/me');
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.organizations[0].id).toBe(owner.orgId);
    // alone in an organization is no different: nobody would be left to manage it
    const alone = await cp.newOrg('alone');
    expect((await alone.client.delete('/v1/users/me')).status).toBe(409);

    const byOperator = await cp.admin.delete(`/v1/admin/users/${await userId(carol.sub)}`);
    expect(byOperator.status).toBe(202);
    expect(await cp.deps.flows.waitForCompletion(byOperator.body.flowId, 5000)).toMatchObject({
      state: 'succeeded',
    });
    expect((await cp.admin.delete(`/v1/admin/users/${await userId(carol.sub)}`)).status).toBe(404);
    expect((await cp.admin.delete('/v1/admin/users/not-a-uuid')).status).toBe(400);
    expect((await owner.client.delete(`/v1/admin/users/${await userId(carol.sub)}`)).status).toBe(403);
  });
});

describe('admin API', () => {
  it('lists, shows, cancels and retries flows; only with the admin token', async () => {
    const started = await cp.admin.post('/v1/admin/diagnostics/flows', { count: 2, stepDelayMs: 0 });
    expect(started.status).toBe(202);
    const [first] = started.body.flowIds;
    expect(await cp.deps.flows.waitForCompletion(first, 5000)).toMatchObject({ state: 'succeeded' });
    const list = await cp.admin.get('/v1/admin/flows?type=diagnostic&state=succeeded');
    expect(list.body.data.map((f: { id: string }) => f.id)).toContain(first);
    const shown = await cp.admin.get(`/v1/admin/flows/${first}`);
    expect(shown.body.steps.every((s: { outcome: string }) => s.outcome === 'succeeded')).toBe(true);
    expect((await cp.admin.post(`/v1/admin/flows/${first}/cancel`)).status).toBe(409);
    expect((await cp.admin.post(`/v1/admin/flows/${first}/retry`)).status).toBe(409);

    const user = await cp.newUser();
    expect((await user.client.get('/v1/admin/flows')).status).toBe(403);
    expect((await cp.anonymous.get('/v1/admin/flows')).status).toBe(401);
    expect((await cp.admin.get('/v1/orgs')).status).toBe(403);
    expect((await cp.admin.get('/v1/admin/flows?state=bogus')).status).toBe(400);
    expect((await cp.admin.get('/v1/admin/flows/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('retries a failed flow from where it stopped and cancels a waiting one', async () => {
    const { rows } = await cp.deps.db.query(
      `INSERT INTO flows (type, state, context, step_index, last_error, completed_at)
       VALUES ('diagnostic', 'failed', '{"stepDelayMs":0}', 1, 'step effect-2 failed: boom', now()) RETURNING id`,
    );
    const retried = await cp.admin.post(`/v1/admin/flows/${rows[0].id}/retry`);
    expect(retried.status).toBe(202);
    expect(await cp.deps.flows.waitForCompletion(rows[0].id, 5000)).toMatchObject({ state: 'succeeded' });
    const shown = await cp.admin.get(`/v1/admin/flows/${rows[0].id}`);
    expect(shown.body.steps.map((s: { step: string }) => s.step)).toEqual(['effect-2', 'effect-3']);

    const waiting = await cp.deps.db.query(
      `INSERT INTO flows (type, state, context, wait_for, next_run_at) VALUES ('diagnostic', 'waiting', '{}', 'never', 'infinity') RETURNING id`,
    );
    const stuck = await cp.admin.get('/v1/admin/flows?state=waiting&inStateForMs=0');
    expect(stuck.body.data.map((f: { id: string }) => f.id)).toContain(waiting.rows[0].id);
    const cancelled = await cp.admin.post(`/v1/admin/flows/${waiting.rows[0].id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    const metrics = await cp.anonymous.get('/metrics');
    expect(metrics.body).toMatch(/planewright_flows\{flow_type="diagnostic",state="succeeded"\} \d+/);
    expect(metrics.body).toContain('planewright_flow_step_duration_seconds_bucket');
  });

  it('moves the clock forward in test mode only', async () => {
    const before = await cp.admin.get('/v1/admin/clock');
    const after = await cp.admin.post('/v1/admin/clock', { advanceMs: 86_400_000 });
    expect(after.body.offsetMs - before.body.offsetMs).toBe(86_400_000);
    expect((await cp.admin.post('/v1/admin/clock', { advanceMs: -5 })).status).toBe(400);
    await cp.deps.db.query('UPDATE clock SET offset_ms = 0');
  });
});
