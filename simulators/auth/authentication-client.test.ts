// Conformance with the auth0 SDK's AuthenticationClient (shipped as `auth0/legacy` since v5):
// password, password-realm, refresh and client credentials grants, and the error the SDK raises
// for a wrong password. Its ID-token check is pinned to `https://<domain>/` as issuer and fetches
// that host's JWKS itself, so these grants ask for no `openid` scope (no ID token is issued, and
// Auth0 issues none either); ID tokens are checked with openid-client in oidc.test.ts instead.
import { AuthApiError, AuthenticationClient } from 'auth0/legacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CLIENT, DEFAULT_API, DEFAULT_USER, M2M_CLIENT } from './index.ts';
import { claimsOf, simulatorFetch, startAuth, TENANT_DOMAIN } from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>>;
beforeAll(async () => {
  sim = await startAuth();
});
afterAll(() => sim.stop());

const client = (clientId: string, clientSecret: string) =>
  new AuthenticationClient({ domain: TENANT_DOMAIN, clientId, clientSecret, fetch: simulatorFetch(sim.url) });

describe('AuthenticationClient', () => {
  it('password grant, then a refresh that rotates the refresh token', async () => {
    const auth = client(APP_CLIENT.client_id, APP_CLIENT.client_secret!);
    const { data, status } = await auth.oauth.passwordGrant({
      username: DEFAULT_USER.email,
      password: DEFAULT_USER.password,
      audience: DEFAULT_API.identifier,
      scope: 'offline_access read:orgs',
    });
    expect(status).toBe(200);
    expect(data).toMatchObject({
      token_type: 'Bearer',
      expires_in: 86_400,
      scope: 'offline_access read:orgs',
    });
    expect(claimsOf(data.access_token)).toMatchObject({
      sub: DEFAULT_USER.user_id,
      aud: DEFAULT_API.identifier,
    });
    const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: data.refresh_token! });
    expect(refreshed.data.refresh_token).toEqual(expect.any(String));
    expect(refreshed.data.refresh_token).not.toBe(data.refresh_token);
  });

  it('password-realm names the connection', async () => {
    const auth = client(APP_CLIENT.client_id, APP_CLIENT.client_secret!);
    const { data } = await auth.oauth.passwordGrant({
      username: DEFAULT_USER.email,
      password: DEFAULT_USER.password,
      realm: 'Username-Password-Authentication',
    });
    expect(claimsOf(data.access_token).aud).toBe(`${sim.url}/userinfo`);
  });

  it('client credentials grant', async () => {
    const auth = client(M2M_CLIENT.client_id, M2M_CLIENT.client_secret!);
    // the SDK's request type has no scope: the client gets every scope it is granted
    const { data } = await auth.oauth.clientCredentialsGrant({ audience: `${sim.url}/api/v2/` });
    expect((data as { scope?: string }).scope).toBe(M2M_CLIENT.management_scopes!.join(' '));
    expect(claimsOf(data.access_token)).toMatchObject({
      aud: `${sim.url}/api/v2/`,
      gty: 'client-credentials',
    });
  });

  it('a wrong password raises AuthApiError invalid_grant with status 403', async () => {
    const auth = client(APP_CLIENT.client_id, APP_CLIENT.client_secret!);
    const error = await auth.oauth
      .passwordGrant({ username: DEFAULT_USER.email, password: 'wrong' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthApiError);
    expect(error).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Wrong email or password.',
      statusCode: 403,
    });
  });
});
