// Conformance with openid-client, over real HTTP: discovery, the client credentials, password and
// refresh grants (openid-client validates the ID tokens: issuer, audience, times), userinfo, and
// the error answers it must read as Auth0's.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CLIENT, DEFAULT_API, DEFAULT_USER, M2M_CLIENT, SPA_CLIENT } from './index.ts';
import { call, claimsOf, passwordGrant, startAuth } from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>>;
beforeAll(async () => {
  sim = await startAuth();
});
afterAll(() => sim.stop());

const insecure = { execute: [oidc.allowInsecureRequests] };
const discover = (clientId: string, secret?: string) =>
  oidc.discovery(new URL(sim.url), clientId, secret, secret ? undefined : oidc.None(), insecure);

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  return error as oidc.ResponseBodyError;
}

describe('discovery', () => {
  it('openid-client discovers the issuer <url>/ and its endpoints', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(`${sim.url}/`);
    expect(metadata.token_endpoint).toBe(`${sim.url}/oauth/token`);
    expect(metadata.jwks_uri).toBe(`${sim.url}/.well-known/jwks.json`);
    expect(metadata.userinfo_endpoint).toBe(`${sim.url}/userinfo`);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['RS256']);
  });

  it('publishes one RS256 signing key whose kid signs the tokens', async () => {
    const { body } = await call(sim.url, '/.well-known/jwks.json');
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
    const { body: tokens } = await passwordGrant(sim.url, {
      username: DEFAULT_USER.email,
      password: DEFAULT_USER.password,
    });
    const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: body.keys[0].kid });
  });
});

describe('grants', () => {
  it('client_credentials: a token for the API with the granted scopes, narrowed on request', async () => {
    const config = await discover(M2M_CLIENT.client_id, M2M_CLIENT.client_secret);
    const all = await oidc.clientCredentialsGrant(config, { audience: DEFAULT_API.identifier });
    expect(all.token_type).toBe('bearer');
    expect(all.scope).toBe(DEFAULT_API.scopes.join(' '));
    expect(all.expires_in).toBe(86_400);
    expect(claimsOf(all.access_token)).toMatchObject({
      iss: `${sim.url}/`,
      sub: `${M2M_CLIENT.client_id}@clients`,
      aud: DEFAULT_API.identifier,
      gty: 'client-credentials',
      azp: M2M_CLIENT.client_id,
    });
    const narrowed = await oidc.clientCredentialsGrant(config, {
      audience: DEFAULT_API.identifier,
      scope: 'read:orgs not:granted',
    });
    expect(narrowed.scope).toBe('read:orgs');
  });

  it('password: access, ID and refresh tokens that openid-client validates; userinfo answers', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    const tokens = await oidc.genericGrantRequest(config, 'password', {
      username: DEFAULT_USER.email,
      password: DEFAULT_USER.password,
      audience: DEFAULT_API.identifier,
      scope: 'openid profile email offline_access read:orgs',
    });
    const idClaims = tokens.claims()!;
    expect(idClaims).toMatchObject({
      iss: `${sim.url}/`,
      aud: APP_CLIENT.client_id,
      sub: DEFAULT_USER.user_id,
      email: DEFAULT_USER.email,
      email_verified: true,
      name: DEFAULT_USER.name,
    });
    expect(claimsOf(tokens.access_token)).toMatchObject({
      aud: [DEFAULT_API.identifier, `${sim.url}/userinfo`],
      scope: 'openid profile email offline_access read:orgs',
      gty: 'password',
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const profile = await oidc.fetchUserInfo(config, tokens.access_token, DEFAULT_USER.user_id!);
    expect(profile).toMatchObject({
      sub: DEFAULT_USER.user_id,
      email: DEFAULT_USER.email,
      nickname: 'alice',
    });
  });

  it('refresh: rotates the refresh token; reusing a rotated one is refused and revokes the family', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    const first = await oidc.genericGrantRequest(config, 'password', {
      username: DEFAULT_USER.email,
      password: DEFAULT_USER.password,
      scope: 'openid offline_access',
    });
    const second = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.claims()!.sub).toBe(DEFAULT_USER.user_id);
    const reused = await rejection(oidc.refreshTokenGrant(config, first.refresh_token!));
    expect(reused).toBeInstanceOf(oidc.ResponseBodyError);
    expect(reused).toMatchObject({
      status: 403,
      error: 'invalid_grant',
      error_description: 'Unknown or invalid refresh token.',
    });
    // the reuse revoked the whole family, the newest token too
    const revoked = await rejection(oidc.refreshTokenGrant(config, second.refresh_token!));
    expect(revoked).toMatchObject({ status: 403, error: 'invalid_grant' });
  });

  it('password-realm and a public client (an SPA sends no secret)', async () => {
    const config = await discover(SPA_CLIENT.client_id);
    const tokens = await oidc.genericGrantRequest(
      config,
      'http://auth0.com/oauth/grant-type/password-realm',
      {
        username: DEFAULT_USER.email,
        password: DEFAULT_USER.password,
        realm: 'Username-Password-Authentication',
        scope: 'openid',
      },
    );
    expect(tokens.claims()!.aud).toBe(SPA_CLIENT.client_id);
    const wrongRealm = await rejection(
      oidc.genericGrantRequest(config, 'http://auth0.com/oauth/grant-type/password-realm', {
        username: DEFAULT_USER.email,
        password: DEFAULT_USER.password,
        realm: 'nope',
      }),
    );
    expect(wrongRealm).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});

describe('errors, as Auth0 answers them', () => {
  it('a wrong password is 403 invalid_grant "Wrong email or password."', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    const error = await rejection(
      oidc.genericGrantRequest(config, 'password', { username: DEFAULT_USER.email, password: 'wrong' }),
    );
    expect(error).toBeInstanceOf(oidc.ResponseBodyError);
    expect(error).toMatchObject({
      status: 403,
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
    });
    expect(error.cause).toEqual({ error: 'invalid_grant', error_description: 'Wrong email or password.' });
  });

  it('a bad client secret is 401 access_denied; a grant the client lacks is unauthorized_client', async () => {
    const wrongSecret = await discover(M2M_CLIENT.client_id, 'not-the-secret');
    expect(
      await rejection(oidc.clientCredentialsGrant(wrongSecret, { audience: DEFAULT_API.identifier })),
    ).toMatchObject({
      status: 401,
      error: 'access_denied',
      error_description: 'Unauthorized',
    });
    const app = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    expect(
      await rejection(oidc.clientCredentialsGrant(app, { audience: DEFAULT_API.identifier })),
    ).toMatchObject({
      status: 403,
      error: 'unauthorized_client',
      error_description: "Grant type 'client_credentials' not allowed for the client.",
    });
  });

  it('client_credentials needs an audience, one that exists and that the client is granted', async () => {
    const config = await discover(M2M_CLIENT.client_id, M2M_CLIENT.client_secret);
    expect(await rejection(oidc.clientCredentialsGrant(config))).toMatchObject({
      status: 403,
      error: 'access_denied',
      error_description: 'No audience parameter was provided, and no default audience has been configured',
    });
    expect(
      await rejection(oidc.clientCredentialsGrant(config, { audience: 'https://unknown.test/' })),
    ).toMatchObject({
      status: 403,
      error: 'access_denied',
      error_description: 'Service not found: https://unknown.test/',
    });
  });

  it('an unknown grant type and missing parameters', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    expect(await rejection(oidc.genericGrantRequest(config, 'urn:example:nope', {}))).toMatchObject({
      status: 403,
      error: 'unsupported_grant_type',
    });
    expect(
      await rejection(oidc.genericGrantRequest(config, 'password', { username: DEFAULT_USER.email })),
    ).toMatchObject({
      status: 400,
      error: 'invalid_request',
      error_description: 'Missing required parameter: password',
    });
  });

  it('userinfo refuses a missing or forged token with a WWW-Authenticate challenge', async () => {
    const config = await discover(APP_CLIENT.client_id, APP_CLIENT.client_secret);
    const error = await oidc
      .fetchUserInfo(config, 'not.a.token', oidc.skipSubjectCheck)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect((error as oidc.WWWAuthenticateChallengeError).cause[0]).toMatchObject({
      scheme: 'bearer',
      parameters: { error: 'invalid_token' },
    });
  });
});
