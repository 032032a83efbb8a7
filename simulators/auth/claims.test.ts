// Per-user claims (organization, roles, permissions, custom namespaced claims), expiry on the
// simulator clock, and that the control plane's own check accepts these tokens: it verifies with
// jose against the JWKS URL, issuer `<url>/` and its configured audience
// (control-plane/src/auth/authenticate.ts), which is repeated here call for call.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, call, claimsOf, passwordGrant, startAuth } from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>> | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const audience = 'https://control-plane.example/';

/** What the control plane does with a bearer JWT, with AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE. */
function controlPlaneVerifier(config: { AUTH_JWKS_URL: string; AUTH_ISSUER: string; AUTH_AUDIENCE: string }) {
  const jwks = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
    timeoutDuration: 5_000,
    cooldownDuration: 30_000,
  });
  return (token: string, currentDate?: Date) =>
    jwtVerify(token, jwks, {
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      ...(currentDate ? { currentDate } : {}),
    });
}

const seeded = {
  apis: [{ identifier: audience, scopes: ['read:orgs'] }],
  organizations: [{ id: 'org_acme0000000001', name: 'acme', display_name: 'Acme' }, { name: 'globex' }],
  users: [
    {
      user_id: 'auth0|bob',
      email: 'bob@example.com',
      password: 'Passw0rd!',
      name: 'Bob',
      roles: ['owner'],
      permissions: ['read:orgs', 'write:orgs'],
      organization: 'acme',
      claims: { 'https://planewright.dev/plan': 'pro' },
    },
  ],
};

describe('claims', () => {
  it('carries the configured organization, roles, permissions and custom claims', async () => {
    sim = await startAuth(seeded);
    const { body } = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      audience,
      scope: 'openid profile read:orgs',
    });
    const access = claimsOf(body.access_token);
    expect(access).toMatchObject({
      iss: `${sim.url}/`,
      sub: 'auth0|bob',
      aud: [audience, `${sim.url}/userinfo`],
      org_id: 'org_acme0000000001',
      org_name: 'acme',
      permissions: ['read:orgs', 'write:orgs'],
      'https://planewright.dev/roles': ['owner'],
      'https://planewright.dev/plan': 'pro',
      scope: 'openid profile read:orgs',
    });
    expect(access.exp - access.iat).toBe(86_400);
    const id = claimsOf(body.id_token);
    expect(id).toMatchObject({ aud: 'pw_sim_app', org_id: 'org_acme0000000001', name: 'Bob' });
    expect(id.exp - id.iat).toBe(36_000);
    expect(id.permissions).toBeUndefined();
  });

  it('signs in to another organization only as its member; /_sim/users changes the claims', async () => {
    sim = await startAuth(seeded);
    const refused = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      organization: 'globex',
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('access_denied');
    const changed = await admin(sim.url).patch('users/bob@example.com', {
      organization: 'globex',
      roles: ['viewer'],
      claims: { 'https://planewright.dev/plan': 'free' },
    });
    expect(changed.status).toBe(200);
    const { body } = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      organization: 'globex',
    });
    expect(claimsOf(body.access_token)).toMatchObject({
      org_name: 'globex',
      'https://planewright.dev/roles': ['viewer'],
      'https://planewright.dev/plan': 'free',
    });
    expect((await admin(sim.url).patch('users/nobody@example.com', { roles: [] })).status).toBe(404);
  });

  it('the control plane would accept the tokens: JWKS, issuer <url>/ and its audience', async () => {
    sim = await startAuth({ ...seeded, defaultAudience: audience });
    const verify = controlPlaneVerifier({
      AUTH_JWKS_URL: `${sim.url}/.well-known/jwks.json`,
      AUTH_ISSUER: `${sim.url}/`,
      AUTH_AUDIENCE: audience,
    });
    // no audience asked for: the default audience applies, as on a tenant that sets one
    const { body } = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      scope: 'openid email',
    });
    const { payload } = await verify(body.access_token);
    expect(payload).toMatchObject({ sub: 'auth0|bob' });
    // an ID token is for the client, not the API: refused, as the control plane must
    await expect(verify(body.id_token)).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
  });

  it('expires by the simulator clock: the verifier and userinfo refuse the token after exp', async () => {
    sim = await startAuth({ ...seeded, accessTokenTtlS: 600 });
    const verify = controlPlaneVerifier({
      AUTH_JWKS_URL: `${sim.url}/.well-known/jwks.json`,
      AUTH_ISSUER: `${sim.url}/`,
      AUTH_AUDIENCE: audience,
    });
    const { body } = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      audience,
      scope: 'openid',
    });
    const userinfo = () =>
      call(sim!.url, '/userinfo', { headers: { authorization: `Bearer ${body.access_token}` } });
    expect((await userinfo()).status).toBe(200);
    await sim.clock.advance(600_000);
    await expect(verify(body.access_token, sim.clock.date())).rejects.toBeInstanceOf(joseErrors.JWTExpired);
    const expired = await userinfo();
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(expired.body.error).toBe('invalid_token');
  });

  it('refresh tokens expire after the idle lifetime on the simulator clock', async () => {
    sim = await startAuth({ ...seeded, refreshTokens: { idleLifetimeS: 60 } });
    const { body } = await passwordGrant(sim.url, {
      username: 'bob@example.com',
      password: 'Passw0rd!',
      scope: 'offline_access',
    });
    await sim.clock.advance(60_000);
    const refused = await passwordGrant(sim.url, {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
  });
});
