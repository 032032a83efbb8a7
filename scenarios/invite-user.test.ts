// Invite user, end to end: a real control plane (child process) with the auth simulator (Auth0's
// Management API) and the notify simulator (SendGrid). The invitation is made at the auth provider,
// the one-time link reaches the invitee's mailbox exactly once (even through an email outage), the
// invitee joins with the invited role, and the admins are told. Every effect is read from the
// simulators, never taken from the control plane's word.
import { describe, expect } from 'vitest';
import { type ControlPlaneClient, eventually, scenario, type Tenant } from '../harness/fixtures.ts';

const test = scenario({
  simulators: ['auth', 'notify'],
  controlPlane: {
    env: {
      // the application invitees sign in to (the auth simulator's regular web app)
      AUTH_APP_CLIENT_ID: 'pw_sim_app',
      FLOW_RETRY_BASE_MS: '50',
      FLOW_RETRY_MAX_MS: '1000',
    },
  },
});

interface MailboxMessage {
  to: string;
  subject: string;
  links: string[];
  status: string;
  vendor: { customArgs: Record<string, string>; categories: string[] };
}

type Notify = { url: string };

/** Messages to `to` in the notify simulator's mailbox, any status; waits up to `wait` for the first. */
async function mailbox(notify: Notify, to: string, wait = '0'): Promise<MailboxMessage[]> {
  const query = new URLSearchParams({ to, status: 'any', channel: 'email', wait });
  const response = await fetch(`${notify.url}/_sim/messages?${query}`);
  return ((await response.json()) as { messages: MailboxMessage[] }).messages;
}

/** The one-time token of the invitation link in `to`'s mailbox (exactly one invitation email). */
async function emailedToken(notify: Notify, to: string): Promise<string> {
  const messages = (await mailbox(notify, to, '10s')).filter((m) =>
    m.vendor.categories.includes('invitation'),
  );
  expect(messages).toHaveLength(1);
  const link = new URL(messages[0]!.links.find((l) => l.includes('/invitations/accept'))!);
  expect(link.origin + link.pathname).toBe('https://app.planewright.test/invitations/accept');
  return link.searchParams.get('token')!;
}

async function finishedFlow(admin: ControlPlaneClient, flowId: string, timeoutMs = 15_000) {
  return eventually(
    `flow ${flowId} finished`,
    async () => {
      const flow = await admin.get(`/v1/admin/flows/${flowId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(flow.body.state) && flow.body;
    },
    timeoutMs,
  );
}

async function invite(tenant: Tenant, email: string, role = 'member') {
  const created = await tenant.client.post(tenant.path('/invitations'), { email, role });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; flowId: string; status: string };
}

const countFlows = async (admin: ControlPlaneClient, orgId: string) =>
  (await admin.get(`/v1/admin/flows?orgId=${orgId}&limit=200`)).body.data.length as number;

describe('invite user', () => {
  test('the invitee gets one link, joins with the invited role, and the admins are told', async ({
    env,
    tenant,
    admin,
    auth,
    notify,
    traces,
  }) => {
    const invitee = await env.newUser('invitee');
    const created = await invite(tenant, invitee.email, 'admin');
    // the token is in the email only
    expect(Object.keys(created)).not.toContain('token');
    expect((await finishedFlow(admin, created.flowId)).state).toBe('succeeded');

    // the auth provider: an organization invitation, without Auth0's own email
    const organization = [...auth.state.organizations.values()].find((o) => o.name === `pw-${tenant.orgId}`);
    expect(organization).toBeDefined();
    const atProvider = [...auth.state.invitations.values()].filter(
      (i) => i.app_metadata.planewright_invitation_id === created.id,
    );
    expect(atProvider).toHaveLength(1);
    expect(atProvider[0]).toMatchObject({
      organization_id: organization!.id,
      invitee: { email: invitee.email.toLowerCase() },
      client_id: 'pw_sim_app',
    });

    const token = await emailedToken(notify, invitee.email);
    const [message] = await mailbox(notify, invitee.email);
    expect(message!.vendor.customArgs.idempotency_key).toBe(`${created.flowId}:send-email:invitation-email`);
    const accepted = await tenant.client.as(invitee.token).post('/v1/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ orgId: tenant.orgId, role: 'admin' });
    const members = await tenant.client.get(tenant.path('/members'));
    expect(members.body.data.filter((m: { role: string }) => m.role === 'admin')).toHaveLength(1);

    expect((await finishedFlow(admin, accepted.body.flowId)).state).toBe('succeeded');
    // the provider: the invitee is a member of the organization's twin, the invitation spent
    expect(organization!.members.has(invitee.sub)).toBe(true);
    expect(auth.state.invitations.has(atProvider[0]!.id)).toBe(false);
    // the owner is told, once; the invitee has had one email in all
    const told = await mailbox(notify, tenant.email, '10s');
    expect(told).toHaveLength(1);
    expect(told[0]!.subject).toMatch(/joined/);
    expect(await mailbox(notify, invitee.email)).toHaveLength(1);

    // the request and both steps are one trace
    const spans = await traces.store.waitFor({
      flowId: created.flowId,
      names: ['flow invite-user auth-invitation', 'flow invite-user send-email'],
    });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  });

  test('email provider down during the invite: the flow waits, resumes, and sends exactly one email', async ({
    env,
    tenant,
    admin,
    notify,
    faults,
  }) => {
    const invitee = await env.newUser('patient');
    // long enough that the first send falls inside it even on a loaded machine
    await faults.apply({
      faults: [
        {
          component: 'notify',
          rule: {
            id: 'sendgrid-down',
            match: { method: 'POST', path: '/v3/mail/send' },
            fault: { kind: 'outage', forMs: 2_500 },
          },
        },
      ],
    });
    const created = await invite(tenant, invitee.email);
    // while SendGrid is down the flow waits (it does not fail) and nothing is delivered
    await eventually('the flow waiting out the outage', async () => {
      const flow = await admin.get(`/v1/admin/flows/${created.flowId}`);
      return flow.body.state === 'waiting' && flow.body.currentStep === 'send-email';
    });
    expect(await mailbox(notify, invitee.email)).toHaveLength(0);

    const flow = await finishedFlow(admin, created.flowId);
    expect(flow.state).toBe('succeeded');
    const sends = flow.steps.filter((s: { step: string }) => s.step === 'send-email');
    expect(sends.filter((s: { outcome: string }) => s.outcome === 'waiting').length).toBeGreaterThanOrEqual(
      1,
    );
    expect(sends.at(-1).outcome).toBe('succeeded');
    // the outage answered at least one send, recorded in the simulator's journal
    const journal = faults.journal().simulators.notify!.entries;
    expect(journal.filter((e) => e.rule === 'sendgrid-down' && e.fault).length).toBeGreaterThanOrEqual(1);
    // exactly one email in the end, counted in the simulator
    await emailedToken(notify, invitee.email);
    expect(notify.state.mailbox.find({ to: invitee.email, status: 'any' })).toHaveLength(1);
  });

  test('a link used twice: the second use is refused, one membership', async ({
    env,
    tenant,
    admin,
    notify,
    auth,
  }) => {
    const invitee = await env.newUser('twice');
    const created = await invite(tenant, invitee.email);
    await finishedFlow(admin, created.flowId);
    const token = await emailedToken(notify, invitee.email);
    const as = tenant.client.as(invitee.token);
    const first = await as.post('/v1/invitations/accept', { token });
    expect(first.status).toBe(200);
    const second = await as.post('/v1/invitations/accept', { token });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'conflict',
      message: 'the invitation was already accepted',
    });
    const members = await tenant.client.get(tenant.path('/members'));
    expect(members.body.data.map((m: { role: string }) => m.role).sort()).toEqual(['member', 'owner']);
    await finishedFlow(admin, first.body.flowId);
    const organization = [...auth.state.organizations.values()].find((o) => o.name === `pw-${tenant.orgId}`);
    expect(organization!.members.has(invitee.sub)).toBe(true);
    // one accept-invite flow: the owner is told once
    expect(await mailbox(notify, tenant.email, '10s')).toHaveLength(1);
  });

  test('an invitee who is already a member: 409, nothing started, nothing sent', async ({
    env,
    tenant,
    admin,
    notify,
    auth,
  }) => {
    const member = await env.newUser('already');
    const created = await invite(tenant, member.email);
    await finishedFlow(admin, created.flowId);
    const token = await emailedToken(notify, member.email);
    const accepted = await tenant.client.as(member.token).post('/v1/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    await finishedFlow(admin, accepted.body.flowId);
    const flows = await countFlows(admin, tenant.orgId);
    const providerInvitations = auth.state.invitations.size;

    for (const email of [member.email, member.email.toUpperCase(), tenant.email]) {
      const again = await tenant.client.post(tenant.path('/invitations'), { email, role: 'admin' });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/already a member/);
    }
    expect(await countFlows(admin, tenant.orgId)).toBe(flows);
    expect(auth.state.invitations.size).toBe(providerInvitations);
    expect(await mailbox(notify, member.email)).toHaveLength(1);
    expect(
      (await mailbox(notify, tenant.email)).filter((m) => m.vendor.categories.includes('invitation')),
    ).toHaveLength(0);
  });

  test('bad input: a clear 4xx, nothing started, nothing lost', async ({
    env,
    tenant,
    admin,
    notify,
    auth,
  }) => {
    const flows = await countFlows(admin, tenant.orgId);
    const providerInvitations = auth.state.invitations.size;
    const path = tenant.path('/invitations');
    const email = `bad-${tenant.orgId.slice(0, 8)}@example.test`;
    for (const body of [
      {},
      { email: 'not-an-email', role: 'member' },
      { email, role: 'god' },
      { email, role: 'member', token: 'mine' },
      { email: `${'x'.repeat(320)}@example.test`, role: 'member' },
    ]) {
      const answer = await tenant.client.post(path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    // an API key cannot bring people in
    const key = await tenant.client.post(tenant.path('/api-keys'), { name: 'ci', role: 'admin' });
    const byKey = await tenant.client.as(key.body.key).post(path, { email, role: 'member' });
    expect(byKey.status).toBe(403);
    // a member cannot invite
    const member = await env.newUser('plain-member');
    const invited = await invite(tenant, member.email);
    await finishedFlow(admin, invited.flowId);
    const token = await emailedToken(notify, member.email);
    const accepted = await tenant.client.as(member.token).post('/v1/invitations/accept', { token });
    expect(accepted.status).toBe(200);
    await finishedFlow(admin, accepted.body.flowId);
    const byMember = await tenant.client.as(member.token).post(path, { email, role: 'member' });
    expect(byMember.status).toBe(403);

    for (const body of [{}, { token: '' }, { token: 'x'.repeat(201) }, { token: 5 }]) {
      expect((await tenant.client.post('/v1/invitations/accept', body)).status, JSON.stringify(body)).toBe(
        400,
      );
    }
    const unknown = await tenant.client.post('/v1/invitations/accept', { token: 'pwinv_unknown' });
    expect(unknown.status).toBe(404);

    // only the key, the member's invitation and its acceptance started flows: nothing for `email`
    expect(await countFlows(admin, tenant.orgId)).toBe(flows + 3);
    expect(auth.state.invitations.size).toBe(providerInvitations);
    expect(await mailbox(notify, email)).toHaveLength(0);
    const listed = await tenant.client.get(path);
    expect(listed.body.data.map((i: { email: string }) => i.email)).toEqual([member.email]);
  });

  // last in the file: the flow clock only moves forward, for every test of this environment
  test('an expired link is refused with 410; a new invitation works', async ({
    env,
    tenant,
    admin,
    notify,
  }) => {
    const invitee = await env.newUser('late');
    const created = await invite(tenant, invitee.email);
    await finishedFlow(admin, created.flowId);
    const token = await emailedToken(notify, invitee.email);
    const moved = await admin.post('/v1/admin/clock', { advanceMs: 169 * 3600_000 });
    expect(moved.status).toBe(200);
    const as = tenant.client.as(invitee.token);
    const late = await as.post('/v1/invitations/accept', { token });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('gone');
    const listed = await tenant.client.get(tenant.path('/invitations'));
    expect(listed.body.data[0]).toMatchObject({ id: created.id, status: 'expired' });
    expect((await tenant.client.get(tenant.path('/members'))).body.data).toHaveLength(1);

    const renewed = await invite(tenant, invitee.email);
    await finishedFlow(admin, renewed.flowId);
    const messages = await eventually('the second invitation email', async () => {
      const found = await mailbox(notify, invitee.email);
      return found.length === 2 ? found : undefined;
    });
    const fresh = new URL(messages[1]!.links[0]!).searchParams.get('token')!;
    expect(fresh).not.toBe(token);
    // the new invitation replaced the expired one: its link is dead for good
    expect((await as.post('/v1/invitations/accept', { token })).status).toBe(409);
    expect((await as.post('/v1/invitations/accept', { token: fresh })).status).toBe(200);
  });
});
