// Delete user, end to end: a real control plane (child process) with the auth simulator (Auth0's
// Management API) and the notify simulator. A member who joined through an invitation and made an
// API key deletes their account: they are gone from the organization and from the auth provider
// (read in the simulator's state), their key and sessions stop working, and the audit log keeps
// the history. The provider failing once, or having lost the user already, changes nothing.
import { describe, expect } from 'vitest';
import type { EnvironmentUser } from '../harness/env/index.ts';
import { type ControlPlaneClient, eventually, scenario, type Tenant } from '../harness/fixtures.ts';

const test = scenario({
  simulators: ['auth', 'notify'],
  controlPlane: {
    env: { AUTH_APP_CLIENT_ID: 'pw_sim_app', FLOW_RETRY_BASE_MS: '50', FLOW_RETRY_MAX_MS: '500' },
  },
});

async function finishedFlow(admin: ControlPlaneClient, flowId: string) {
  return eventually(`flow ${flowId} finished`, async () => {
    const flow = await admin.get(`/v1/admin/flows/${flowId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(flow.body.state) && flow.body;
  });
}

/** `user` joins the tenant's organization with `role` through the invitation email. */
async function join(
  tenant: Tenant,
  admin: ControlPlaneClient,
  notifyUrl: string,
  user: EnvironmentUser,
  role: string,
) {
  const created = await tenant.client.post(tenant.path('/invitations'), { email: user.email, role });
  expect(created.status).toBe(201);
  await finishedFlow(admin, created.body.flowId);
  const query = new URLSearchParams({ to: user.email, status: 'any', wait: '10s' });
  const { messages } = (await (await fetch(`${notifyUrl}/_sim/messages?${query}`)).json()) as {
    messages: { links: string[] }[];
  };
  const token = new URL(messages[0]!.links[0]!).searchParams.get('token');
  const accepted = await tenant.client.as(user.token).post('/v1/invitations/accept', { token });
  expect(accepted.status).toBe(200);
  await finishedFlow(admin, accepted.body.flowId);
  const members = await tenant.client.get(tenant.path('/members'));
  return members.body.data.find((m: { role: string }) => m.role === role).userId as string;
}

const atProvider = (auth: { state: { users: Map<string, unknown> } }, sub: string) =>
  auth.state.users.has(sub);

describe('delete user', () => {
  test('gone from the organization and the auth provider, keys revoked, audit kept', async ({
    env,
    tenant,
    admin,
    auth,
    notify,
    traces,
  }) => {
    const bob = await env.newUser('bob');
    const bobId = await join(tenant, admin, notify.url, bob, 'admin');
    const key = await tenant.client
      .as(bob.token)
      .post(tenant.path('/api-keys'), { name: 'bob-ci', role: 'member' });
    expect(key.status).toBe(201);
    const asKey = tenant.client.as(key.body.key);
    expect((await asKey.get(tenant.path(''))).status).toBe(200);
    expect(atProvider(auth, bob.sub)).toBe(true);

    const deletion = await tenant.client.as(bob.token).delete('/v1/users/me');
    expect(deletion.status).toBe(202);
    const flow = await finishedFlow(admin, deletion.body.flowId);
    expect(flow.state).toBe('succeeded');
    expect(flow.context.authProvider).toBe('deleted');

    // the auth provider no longer has the user: read in the simulator
    expect(atProvider(auth, bob.sub)).toBe(false);
    // sessions and keys stop working
    expect((await tenant.client.as(bob.token).get('/v1/users/me')).status).toBe(401);
    expect((await asKey.get(tenant.path(''))).status).toBe(401);
    const keyNow = await tenant.client.get(tenant.path(`/api-keys/${key.body.id}`));
    expect(keyNow.body.status).toBe('revoked');
    // no longer a member; the audit log keeps who did what
    const members = await tenant.client.get(tenant.path('/members'));
    expect(members.body.data.map((m: { userId: string }) => m.userId)).not.toContain(bobId);
    const audit = await tenant.client.get(tenant.path('/audit-log'));
    const actions = audit.body.data.map((e: { action: string }) => e.action);
    for (const action of ['invitation.created', 'invitation.accepted', 'api_key.created', 'member.deleted'])
      expect(actions, action).toContain(action);

    const spans = await traces.store.waitFor({
      flowId: deletion.body.flowId,
      names: ['flow delete-user delete-auth-user', 'flow delete-user erase-user'],
    });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });

  test('the provider fails once, then has lost the user: both count, the flow completes', async ({
    env,
    tenant,
    admin,
    auth,
    notify,
    faults,
  }) => {
    const carol = await env.newUser('carol');
    const carolId = await join(tenant, admin, notify.url, carol, 'member');
    await faults.apply({
      faults: [
        {
          component: 'auth',
          rule: {
            id: 'delete-fails-once',
            match: { method: 'DELETE', path: '/api/v2/users/*' },
            fault: { kind: 'error', status: 503 },
            count: 1,
          },
        },
      ],
    });
    const byOperator = await admin.delete(`/v1/admin/users/${carolId}`);
    expect(byOperator.status).toBe(202);
    const flow = await finishedFlow(admin, byOperator.body.flowId);
    expect(flow.state).toBe('succeeded');
    const attempts = flow.steps.filter((s: { step: string }) => s.step === 'delete-auth-user');
    expect(attempts.map((s: { outcome: string }) => s.outcome)).toEqual(['failed', 'succeeded']);
    expect(atProvider(auth, carol.sub)).toBe(false);
    const journal = faults.journal().simulators.auth!.entries;
    expect(journal.filter((e) => e.rule === 'delete-fails-once' && e.fault)).toHaveLength(1);

    // a user the provider already lost (deleted there by hand): the 404 counts as done
    const dan = await env.newUser('dan');
    await join(tenant, admin, notify.url, dan, 'billing');
    auth.state.users.delete(dan.sub);
    const deletion = await tenant.client.as(dan.token).delete('/v1/users/me');
    const lost = await finishedFlow(admin, deletion.body.flowId);
    expect(lost.state).toBe('succeeded');
    expect(lost.context.authProvider).toBe('deleted');
  });

  test('bad input: a clear 4xx, nothing started, nothing lost', async ({ env, tenant, admin, auth }) => {
    const flows = async () =>
      (await admin.get('/v1/admin/flows?type=delete-user&limit=200')).body.data.length as number;
    const before = await flows();
    // the only owner cannot leave the organization without an owner
    const refused = await tenant.client.delete('/v1/users/me');
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.organizations[0].id).toBe(tenant.orgId);
    expect((await admin.delete('/v1/admin/users/not-a-uuid')).status).toBe(400);
    expect((await admin.delete(`/v1/admin/users/${crypto.randomUUID()}`)).status).toBe(404);
    // only the operator deletes others; an API key deletes no one
    const me = (await tenant.client.get('/v1/users/me')).body.id;
    expect((await tenant.client.delete(`/v1/admin/users/${me}`)).status).toBe(403);
    const key = await tenant.client.post(tenant.path('/api-keys'), { name: 'k', role: 'owner' });
    expect((await tenant.client.as(key.body.key).delete('/v1/users/me')).status).toBe(403);
    const stranger = await env.newUser('stranger');
    expect((await tenant.client.as(stranger.token).delete(`/v1/admin/users/${me}`)).status).toBe(403);

    expect(await flows()).toBe(before);
    expect(atProvider(auth, tenant.sub)).toBe(true);
    expect((await tenant.client.get(tenant.path(''))).status).toBe(200);
  });
});
