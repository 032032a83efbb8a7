import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { resolveConfig } from './config.ts';
import { createOAuth } from './oauth.ts';
import { errorOf, oauthErrorOf } from './test-support.ts';

const context = { instanceUrl: 'http://127.0.0.1:4010/' };
const app = { client_id: 'planewright-client', client_secret: 'planewright-secret' };

function setup() {
  const clock = createManualClock(Date.parse('2025-03-01T00:00:00Z'));
  const config = resolveConfig({
    users: [
      { username: 'admin@planewright.test', password: 'planewright' },
      { username: 'ops@planewright.test', password: 'secret', securityToken: 'TOKEN123' },
    ],
    connectedApps: [
      { clientId: 'planewright-client', clientSecret: 'planewright-secret', runAs: 'ops@planewright.test' },
      { clientId: 'no-runas', clientSecret: 's' },
    ],
    sessionTimeoutMs: 60_000,
  });
  const oauth = createOAuth({ config, clock });
  return { clock, config, oauth };
}

describe('OAuth token endpoint', () => {
  it('password grant: Salesforce token response with identity URL and signature', () => {
    const { oauth, config } = setup();
    const token = oauth.token(
      { grant_type: 'password', username: 'Admin@planewright.test', password: 'planewright', ...app },
      context,
    );
    const userId = config.users[0]!.id;
    expect(token).toEqual({
      access_token: expect.stringMatching(new RegExp(`^${config.orgId.slice(0, 15)}!`)),
      instance_url: 'http://127.0.0.1:4010',
      id: `http://127.0.0.1:4010/id/${config.orgId}/${userId}`,
      token_type: 'Bearer',
      issued_at: String(Date.parse('2025-03-01T00:00:00Z')),
      signature: createHmac('sha256', 'planewright-secret')
        .update(token.id + token.issued_at)
        .digest('base64'),
      scope: 'api',
    });
    expect(token).not.toHaveProperty('refresh_token');
    expect(oauth.authenticate(`Bearer ${token.access_token}`)).toEqual({
      userId,
      username: 'admin@planewright.test',
      clientId: 'planewright-client',
    });
  });

  it('password grant wants the security token appended when the user has one', () => {
    const { oauth } = setup();
    const base = { grant_type: 'password', username: 'ops@planewright.test', ...app };
    expect(oauthErrorOf(() => oauth.token({ ...base, password: 'secret' }, context)).toBody()).toEqual({
      error: 'invalid_grant',
      error_description: 'authentication failure',
    });
    expect(oauth.token({ ...base, password: 'secretTOKEN123' }, context).access_token).toBeTruthy();
  });

  it.each([
    [
      { grant_type: 'password', username: 'nobody', password: 'x', ...app },
      400,
      'invalid_grant',
      'authentication failure',
    ],
    [
      {
        grant_type: 'password',
        username: 'admin@planewright.test',
        password: 'planewright',
        client_id: 'who',
      },
      400,
      'invalid_client_id',
      'client identifier invalid',
    ],
    [
      {
        grant_type: 'password',
        username: 'admin@planewright.test',
        password: 'planewright',
        client_id: app.client_id,
        client_secret: 'wrong',
      },
      400,
      'invalid_client',
      'invalid client credentials',
    ],
    [
      { grant_type: 'client_credentials', client_id: 'no-runas', client_secret: 's' },
      400,
      'invalid_grant',
      'no client credentials user enabled',
    ],
    [
      { grant_type: 'refresh_token', refresh_token: 'made-up', client_id: app.client_id },
      400,
      'invalid_grant',
      'expired access/refresh token',
    ],
    [
      { grant_type: 'authorization_code', code: 'x', ...app },
      400,
      'unsupported_grant_type',
      'grant type not supported',
    ],
    [{}, 400, 'unsupported_grant_type', 'grant type not supported'],
  ])('refuses %j with %i %s', (params, status, error, description) => {
    const { oauth } = setup();
    const failure = oauthErrorOf(() => oauth.token(params, context));
    expect(failure.status).toBe(status);
    expect(failure.toBody()).toEqual({ error, error_description: description });
  });

  it('client_credentials grant runs as the connected app user', () => {
    const { oauth, config } = setup();
    const token = oauth.token({ grant_type: 'client_credentials', ...app }, context);
    expect(token.id.endsWith(`/${config.users[1]!.id}`)).toBe(true);
    expect(oauth.authenticate(`OAuth ${token.access_token}`).username).toBe('ops@planewright.test');
  });

  it('refresh_token grant issues new access tokens; revoking the refresh token ends them all', () => {
    const { oauth } = setup();
    const refreshToken = oauth.issueRefreshToken('admin@planewright.test', app.client_id);
    const first = oauth.token(
      { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.client_id },
      context,
    );
    const second = oauth.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...app }, context);
    expect(first.scope).toBe('api refresh_token');
    expect(first.access_token).not.toBe(second.access_token);
    oauth.revoke(refreshToken);
    for (const token of [first, second]) {
      expect(errorOf(() => oauth.authenticate(`Bearer ${token.access_token}`)).errorCode).toBe(
        'INVALID_SESSION_ID',
      );
    }
    expect(
      oauthErrorOf(() =>
        oauth.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...app }, context),
      ).error,
    ).toBe('invalid_grant');
    expect(oauthErrorOf(() => oauth.revoke(refreshToken)).toBody()).toEqual({
      error: 'unsupported_token_type',
      error_description: 'this token type is not supported',
    });
  });

  it('a refresh token works only for the app it was issued to', () => {
    const { oauth } = setup();
    const refreshToken = oauth.issueRefreshToken('admin@planewright.test', 'no-runas');
    expect(
      oauthErrorOf(() =>
        oauth.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...app }, context),
      ).error,
    ).toBe('invalid_grant');
  });
});

describe('OAuth sessions', () => {
  it('INVALID_SESSION_ID (401) for a missing, unknown, idle-expired or revoked token; use keeps a session alive', () => {
    const { oauth, clock } = setup();
    const invalid = [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }];
    expect(errorOf(() => oauth.authenticate(undefined)).toBody()).toEqual(invalid);
    expect(errorOf(() => oauth.authenticate('Bearer nope')).status).toBe(401);
    expect(errorOf(() => oauth.authenticate('Basic abc')).status).toBe(401);

    const { access_token } = oauth.token({ grant_type: 'client_credentials', ...app }, context);
    clock.advance(50_000);
    oauth.authenticate(`Bearer ${access_token}`);
    clock.advance(50_000);
    oauth.authenticate(`Bearer ${access_token}`);
    clock.advance(60_001);
    expect(errorOf(() => oauth.authenticate(`Bearer ${access_token}`)).toBody()).toEqual(invalid);

    const again = oauth.token({ grant_type: 'client_credentials', ...app }, context).access_token;
    oauth.revoke(again);
    expect(errorOf(() => oauth.authenticate(`Bearer ${again}`)).errorCode).toBe('INVALID_SESSION_ID');
  });

  it('peek names a live session without keeping it alive; userOfTokenRequest names who would log in', () => {
    const { oauth, clock } = setup();
    const { access_token } = oauth.token({ grant_type: 'client_credentials', ...app }, context);
    clock.advance(50_000);
    expect(oauth.peek(`Bearer ${access_token}`)).toMatchObject({ username: 'ops@planewright.test' });
    clock.advance(10_001);
    // peeking did not count as use: the session has been idle 60,001 ms
    expect(oauth.peek(`Bearer ${access_token}`)).toBeUndefined();
    expect(oauth.peek(undefined)).toBeUndefined();
    expect(oauth.userOfTokenRequest({ grant_type: 'password', username: 'ADMIN@planewright.test' })).toBe(
      'admin@planewright.test',
    );
    expect(oauth.userOfTokenRequest({ grant_type: 'client_credentials', client_id: app.client_id })).toBe(
      'ops@planewright.test',
    );
    expect(oauth.userOfTokenRequest({ grant_type: 'password', username: 'ghost' })).toBeUndefined();
  });

  it('expireAllSessions ends access tokens but keeps refresh tokens, so a client can refresh', () => {
    const { oauth } = setup();
    const refreshToken = oauth.issueRefreshToken('admin@planewright.test', app.client_id);
    const { access_token } = oauth.token(
      { grant_type: 'refresh_token', refresh_token: refreshToken, ...app },
      context,
    );
    oauth.expireAllSessions();
    expect(errorOf(() => oauth.authenticate(`Bearer ${access_token}`)).status).toBe(401);
    expect(
      oauth.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...app }, context).access_token,
    ).toBeTruthy();
  });

  it('snapshot names sessions without their tokens; reset forgets everything', () => {
    const { oauth } = setup();
    const { access_token } = oauth.token({ grant_type: 'client_credentials', ...app }, context);
    const snapshot = oauth.snapshot();
    expect(snapshot).toEqual({
      sessions: [
        expect.objectContaining({ username: 'ops@planewright.test', clientId: 'planewright-client' }),
      ],
      refreshTokens: 0,
    });
    expect(JSON.stringify(snapshot)).not.toContain(access_token);
    oauth.reset();
    expect(errorOf(() => oauth.authenticate(`Bearer ${access_token}`)).status).toBe(401);
  });

  it('makes reproducible tokens from an injected random source', () => {
    const { config, clock } = setup();
    const seeded = () => createOAuth({ config, clock, randomBytes: (n) => new Uint8Array(n).fill(7) });
    const token = (oauth: ReturnType<typeof seeded>) =>
      oauth.token({ grant_type: 'client_credentials', ...app }, context);
    expect(token(seeded()).access_token).toBe(token(seeded()).access_token);
  });
});
