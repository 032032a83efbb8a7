// Conformance with the auth0 SDK's ManagementClient (v7), which gets its own Management API token
// with client credentials and then calls /api/v2. It builds `https://<domain>/…` URLs only, so it
// is given the simulator through its documented `fetch` option (test-support.ts).
import { ManagementClient, ManagementError } from 'auth0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP_CLIENT, M2M_CLIENT } from './index.ts';
import {
  admin,
  call,
  claimsOf,
  managementToken,
  passwordGrant,
  simulatorFetch,
  startAuth,
  TENANT_DOMAIN,
} from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>>;
let management: ManagementClient;
beforeAll(async () => {
  sim = await startAuth();
  management = new ManagementClient({
    domain: TENANT_DOMAIN,
    clientId: M2M_CLIENT.client_id,
    clientSecret: M2M_CLIENT.client_secret!,
    audience: `${sim.url}/api/v2/`,
    fetch: simulatorFetch(sim.url),
  });
});
afterAll(() => sim.stop());
beforeEach(() => sim.reset());

async function failure(promise: Promise<unknown>): Promise<ManagementError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ManagementError);
  return error as ManagementError;
}

const newUser = {
  connection: 'Username-Password-Authentication',
  email: 'carol@example.com',
  password: 'Str0ng-pass',
};

describe('users', () => {
  it('create, get, update, search by q and by email, delete', async () => {
    const created = await management.users.create({
      ...newUser,
      name: 'Carol',
      app_metadata: { plan: 'pro' },
    });
    expect(created).toMatchObject({
      user_id: expect.stringMatching(/^auth0\|[0-9a-f]{24}$/),
      email: 'carol@example.com',
      email_verified: false,
      name: 'Carol',
      app_metadata: { plan: 'pro' },
      identities: [{ connection: 'Username-Password-Authentication', provider: 'auth0', isSocial: false }],
    });
    expect(created).not.toHaveProperty('password');
    const id = created.user_id!;
    expect((await management.users.get(id)).email).toBe('carol@example.com');

    const updated = await management.users.update(id, {
      user_metadata: { theme: 'dark' },
      app_metadata: { plan: null },
    });
    expect(updated.user_metadata).toEqual({ theme: 'dark' });
    expect(updated.app_metadata).toBeUndefined();

    const page = await management.users.list({ q: 'email:"carol@example.com"', search_engine: 'v3' });
    expect(page.data.map((u) => u.user_id)).toEqual([id]);
    expect(page.response).toMatchObject({ start: 0, limit: 50, total: 1 });
    const everyone = [];
    for await (const user of await management.users.list({ per_page: 1 })) everyone.push(user.email);
    expect(everyone).toEqual(['alice@example.com', 'carol@example.com']);
    expect(
      (await management.users.listUsersByEmail({ email: 'Carol@Example.com' })).map((u) => u.user_id),
    ).toEqual([id]);

    await management.users.delete(id);
    const gone = await failure(management.users.get(id));
    expect(gone.statusCode).toBe(404);
    expect(gone.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The user does not exist.',
      errorCode: 'inexistent_user',
    });
  });

  it('refuses a duplicate, a missing connection and a weak password as Auth0 does', async () => {
    await management.users.create(newUser);
    expect((await failure(management.users.create(newUser))).body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'The user already exists.',
      errorCode: 'auth0_idp_error',
    });
    const { connection: _connection, ...noConnection } = newUser;
    expect((await failure(management.users.create(noConnection as typeof newUser))).body).toMatchObject({
      statusCode: 400,
      message: "Payload validation error: 'Missing required property: connection'.",
      errorCode: 'invalid_body',
    });
    expect(
      (await failure(management.users.create({ ...newUser, email: 'd@example.com', password: 'weak' }))).body,
    ).toMatchObject({
      statusCode: 400,
      message: 'PasswordStrengthError: Password is too weak',
    });
  });

  it('a blocked user gets no tokens, and gets them again once unblocked', async () => {
    const { user_id } = await management.users.create(newUser);
    const signIn = () => passwordGrant(sim.url, { username: newUser.email, password: newUser.password });
    expect((await signIn()).status).toBe(200);
    expect((await management.users.update(user_id!, { blocked: true })).blocked).toBe(true);
    const refused = await signIn();
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'unauthorized', error_description: 'user is blocked' });
    await management.users.update(user_id!, { blocked: false });
    expect((await signIn()).status).toBe(200);
  });
});

describe('tickets', () => {
  it('a password-change ticket link sets the new password once, then redirects to result_url', async () => {
    const { user_id } = await management.users.create(newUser);
    const { ticket } = await management.tickets.changePassword({
      user_id: user_id!,
      result_url: 'https://app.test/done',
    });
    expect(ticket).toMatch(new RegExp(`^${sim.url}/lo/reset\\?ticket=[\\w-]+#$`));
    const page = await call(sim.url, new URL(ticket).pathname + new URL(ticket).search);
    expect(page.status).toBe(200);
    const ticketId = new URL(ticket).searchParams.get('ticket')!;
    const reset = () =>
      call(sim.url, '/lo/reset', { method: 'POST', form: { ticket: ticketId, newPassword: 'N3w-password' } });
    const done = await reset();
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe(
      'https://app.test/done?success=true&message=Your+password+has+been+changed+successfully.',
    );
    expect((await passwordGrant(sim.url, { username: newUser.email, password: 'N3w-password' })).status).toBe(
      200,
    );
    expect(
      (await passwordGrant(sim.url, { username: newUser.email, password: newUser.password })).status,
    ).toBe(403);
    expect((await reset()).headers.get('location')).toMatch(
      /success=false&message=This\+ticket\+was\+already\+used/,
    );
  });

  it('an email-verification ticket verifies the address; an expired one does not', async () => {
    const { user_id } = await management.users.create(newUser);
    const { ticket } = await management.tickets.verifyEmail({ user_id: user_id!, ttl_sec: 60 });
    expect(ticket).toMatch(new RegExp(`^${sim.url}/u/email-verification\\?ticket=`));
    const path = new URL(ticket).pathname + new URL(ticket).search;
    await sim.clock.advance(60_000);
    expect((await call(sim.url, path)).status).toBe(400);
    const second = await management.tickets.verifyEmail({ user_id: user_id! });
    const verified = await call(sim.url, new URL(second.ticket).pathname + new URL(second.ticket).search);
    expect(verified.status).toBe(200);
    expect((await management.users.get(user_id!)).email_verified).toBe(true);
    expect((await failure(management.tickets.verifyEmail({ user_id: 'auth0|nobody' }))).statusCode).toBe(404);
  });
});

describe('ticket lifetimes', () => {
  it('a ttl_sec past the clock horizon is a 400 in Auth0 shape, and /_sim/state still answers', async () => {
    const { user_id } = await management.users.create(newUser);
    const error = await failure(management.tickets.changePassword({ user_id: user_id!, ttl_sec: 1e20 }));
    expect(error.statusCode).toBe(400);
    expect(error.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `Payload validation error: 'Value 100000000000000000000 is greater than maximum 3155760000 on property ttl_sec'.`,
      errorCode: 'invalid_body',
    });
    const verify = await failure(management.tickets.verifyEmail({ user_id: user_id!, ttl_sec: 1e20 }));
    expect(verify.statusCode).toBe(400);
    expect((await admin(sim.url).get('state')).status).toBe(200);
    expect((await admin(sim.url).get('state')).body.tickets).toEqual([]);
  });
});

describe('organizations and invitations', () => {
  it('invite, list, get, accept (admin), then sign in to the organization with its roles', async () => {
    const organization = await management.organizations.create({ name: 'acme', display_name: 'Acme Inc' });
    expect(organization).toEqual({
      id: expect.stringMatching(/^org_\w{16}$/),
      name: 'acme',
      display_name: 'Acme Inc',
    });
    expect((await management.organizations.get(organization.id!)).name).toBe('acme');
    expect((await management.organizations.list()).data.map((o) => o.name)).toEqual(['acme']);

    const invitation = await management.organizations.invitations.create(organization.id!, {
      inviter: { name: 'Alice' },
      invitee: { email: 'dave@example.com' },
      client_id: APP_CLIENT.client_id,
      roles: ['rol_admin'],
    });
    const url = new URL(invitation.invitation_url!);
    expect(url.origin + url.pathname).toBe(APP_CLIENT.initiate_login_uri);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      invitation: invitation.ticket_id,
      organization: organization.id,
      organization_name: 'acme',
    });
    expect(Date.parse(invitation.expires_at!) - Date.parse(invitation.created_at!)).toBe(7 * 86_400_000);
    const listed = await management.organizations.invitations.list(organization.id!);
    expect(listed.data.map((i) => i.id)).toEqual([invitation.id]);
    expect(
      (await management.organizations.invitations.get(organization.id!, invitation.id!)).invitee,
    ).toEqual({
      email: 'dave@example.com',
    });

    const accepted = await admin(sim.url).post(`invitations/${invitation.ticket_id}/accept`, {
      password: 'Passw0rd!',
    });
    expect(accepted.status).toBe(200);
    const members = await management.organizations.members.list(organization.id!);
    expect(members.data.map((m) => m.email)).toEqual(['dave@example.com']);
    const { body } = await passwordGrant(sim.url, {
      username: 'dave@example.com',
      password: 'Passw0rd!',
      organization: 'acme',
    });
    expect(claimsOf(body.access_token)).toMatchObject({
      org_id: organization.id,
      'https://planewright.dev/roles': ['rol_admin'],
    });
    expect((await management.organizations.invitations.list(organization.id!)).data).toEqual([]);
  });

  it('delete an invitation; a missing organization is a 404', async () => {
    const { id } = await management.organizations.create({ name: 'globex' });
    const invitation = await management.organizations.invitations.create(id!, {
      inviter: { name: 'Alice' },
      invitee: { email: 'erin@example.com' },
      client_id: APP_CLIENT.client_id,
    });
    expect(invitation.invitation_url).toMatch(/^https:\/\/app\.planewright\.test\/login\?invitation=/);
    await management.organizations.invitations.delete(id!, invitation.id!);
    expect((await failure(management.organizations.invitations.get(id!, invitation.id!))).statusCode).toBe(
      404,
    );
    expect((await failure(management.organizations.get('org_missing'))).statusCode).toBe(404);
    expect((await failure(management.organizations.create({ name: 'globex' }))).statusCode).toBe(409);
  });
});

describe('the management token', () => {
  it('a bad token is 401 in Auth0 shape; a missing one says "Missing authentication"', async () => {
    const forged = new ManagementClient({
      domain: TENANT_DOMAIN,
      token: 'not-a-jwt',
      fetch: simulatorFetch(sim.url),
    });
    const error = await failure(forged.users.get('auth0|000000000000000000000001'));
    expect(error.statusCode).toBe(401);
    expect(error.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid token',
      attributes: { error: 'Invalid token' },
    });
    expect((await call(sim.url, '/api/v2/users')).body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Missing authentication',
    });
  });

  it('expires with the simulator clock; a user token (wrong audience) and a narrow scope are refused', async () => {
    // its own simulator: moving the clock would expire the shared client's cached token too
    await using sim = await startAuth();
    const token = await managementToken(sim.url, 'read:users');
    const client = new ManagementClient({ domain: TENANT_DOMAIN, token, fetch: simulatorFetch(sim.url) });
    expect((await client.users.list()).data).toHaveLength(1);
    const insufficient = await failure(client.users.create(newUser));
    expect(insufficient.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: create:users',
      errorCode: 'insufficient_scope',
    });
    await sim.clock.advance(86_400_000);
    expect((await failure(client.users.list())).body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Expired token received for JSON Web Token validation',
      attributes: { error: 'Expired token received for JSON Web Token validation' },
    });
    const user = await passwordGrant(sim.url, {
      username: 'alice@example.com',
      password: 'Passw0rd!',
      audience: 'https://api.planewright.test/',
    });
    const asUser = new ManagementClient({
      domain: TENANT_DOMAIN,
      token: user.body.access_token,
      fetch: simulatorFetch(sim.url),
    });
    expect((await failure(asUser.users.list())).body).toMatchObject({
      statusCode: 401,
      message: 'Bad audience: https://api.planewright.test/',
    });
  });
});
