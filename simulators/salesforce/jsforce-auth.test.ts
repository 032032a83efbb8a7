// jsforce logging in to the simulator over real HTTP: every grant, revocation, expiry, refresh.
import jsforce from 'jsforce';
import { describe, expect, it } from 'vitest';
import {
  admin,
  call,
  client,
  connectionTo,
  integration,
  loggedIn,
  rejectionOf,
  startSalesforce,
  tokenOnly,
} from './testing.ts';

describe('jsforce login', () => {
  it('password grant through loginUrl: instance URL, user and org ids from the identity URL', async () => {
    await using sim = await startSalesforce();
    const conn = connectionTo(sim.url);
    const info = await conn.login(admin.username, admin.password);
    expect(conn.instanceUrl).toBe(sim.url);
    expect(conn.accessToken).toMatch(/^00D[A-Za-z0-9]{12}!/);
    expect(info).toMatchObject({
      id: expect.stringMatching(/^005/),
      organizationId: expect.stringMatching(/^00D/),
    });
    expect(await conn.identity()).toMatchObject({ username: admin.username, user_id: info.id });
  });

  it('a user with a security token logs in with password + token, and not without it', async () => {
    await using sim = await startSalesforce();
    const error = await rejectionOf(connectionTo(sim.url).login(integration.username, integration.password));
    expect(error).toMatchObject({ name: 'invalid_grant', message: 'authentication failure' });
    const conn = connectionTo(sim.url);
    await conn.login(integration.username, integration.password + integration.securityToken);
    const created = await conn.sobject('Task').create({ Subject: 'Call back' });
    const task = await conn.sobject('Task').retrieve(created.id!);
    expect(task.OwnerId).toBe(conn.userInfo!.id);
  });

  it('client_credentials grant with conn.authorize runs as the connected app user', async () => {
    await using sim = await startSalesforce();
    const conn = new jsforce.Connection({ oauth2: { ...client, loginUrl: sim.url }, version: '62.0' });
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    expect(conn.instanceUrl).toBe(sim.url);
    expect((await conn.identity()).username).toBe(admin.username);
    expect(info.organizationId).toMatch(/^00D/);
    const wrong = new jsforce.Connection({ oauth2: { ...client, clientSecret: 'nope', loginUrl: sim.url } });
    expect(await rejectionOf(wrong.authorize({ grant_type: 'client_credentials' }))).toMatchObject({
      name: 'invalid_client',
      message: 'invalid client credentials',
    });
  });

  it('takes client credentials in HTTP Basic auth too, and answers OAuth errors as JSON', async () => {
    await using sim = await startSalesforce();
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const token = await call(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', instance_url: sim.url, scope: 'api' });
    expect(token.headers.get('cache-control')).toContain('no-store');
    const unsupported = await call(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }),
    });
    expect(unsupported).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
    });
    expect(await call(`${sim.url}/services/oauth2/token`)).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'must use HTTP POST' },
    });
  });

  it('refresh_token grant: jsforce renews an expired session with its refresh token and retries', async () => {
    await using sim = await startSalesforce();
    const issued = await call(`${sim.url}/_sim/refresh-tokens`, {
      method: 'POST',
      json: { username: admin.username },
    });
    const conn = new jsforce.Connection({
      oauth2: { ...client, loginUrl: sim.url },
      instanceUrl: sim.url,
      accessToken: 'stale',
      refreshToken: issued.body.refresh_token,
      version: '62.0',
    });
    let refreshed = '';
    conn.on('refresh', (accessToken: string) => {
      refreshed = accessToken;
    });
    const created = await conn.sobject('Case').create({ Subject: 'Printer on fire' });
    expect(created.success).toBe(true);
    expect(refreshed).toBe(conn.accessToken);
  });
});

describe('dead sessions', () => {
  it('a token revoked by logout answers INVALID_SESSION_ID (401)', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const token = conn.accessToken!;
    await conn.logout();
    const error = await rejectionOf(tokenOnly(sim.url, token).sobject('Account').create({ Name: 'Acme' }));
    expect(error).toMatchObject({ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' });
    // a second revoke is refused (jsforce reads the 400 without its OAuth error name)
    expect(await rejectionOf(conn.oauth2.revokeToken(token))).toMatchObject({
      message: expect.stringContaining('unsupported_token_type'),
    });
  });

  it('a session idle past its timeout (by advancing the clock) is INVALID_SESSION_ID; jsforce logged in by password logs in again', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const before = conn.accessToken!;
    await conn.sobject('Account').create({ Name: 'Before' });
    await sim.clock.advance(2 * 60 * 60_000 + 1);
    const error = await rejectionOf(tokenOnly(sim.url, before).query('SELECT Id FROM Account'));
    expect(error.errorCode).toBe('INVALID_SESSION_ID');
    // the logged-in connection renews itself by logging in again, as it would against Salesforce
    const result = await conn.query('SELECT Name FROM Account');
    expect(result.records.map((r) => r.Name)).toEqual(['Before']);
    expect(conn.accessToken).not.toBe(before);
  });

  it('no token, or a malformed header, is INVALID_SESSION_ID with the limit header and no usage spent', async () => {
    await using sim = await startSalesforce();
    for (const authorization of [undefined, 'Bearer', 'Basic abc', 'Bearer nope']) {
      const answer = await call(`${sim.url}/services/data/v62.0/limits`, {
        headers: authorization ? { authorization } : {},
      });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual([
        { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
      ]);
      expect(answer.headers.get('sforce-limit-info')).toBe('api-usage=0/15000');
    }
  });
});
