// The wire shapes no SDK call shows directly: versions and resources, the limit header on every
// answer, errors for unknown versions, resources and methods, lenient JSON, and /_sim/state.
import { describe, expect, it } from 'vitest';
import { call, passwordToken, startSalesforce } from './testing.ts';

describe('the REST API over plain HTTP', () => {
  it('GET /services/data lists versions without a session or a charge; the version root lists resources', async () => {
    await using sim = await startSalesforce();
    const versions = await call(`${sim.url}/services/data`);
    expect(versions.status).toBe(200);
    expect(versions.body).toContainEqual({
      label: "Winter '25",
      url: '/services/data/v62.0',
      version: '62.0',
    });
    expect(versions.body.at(-1)).toEqual({
      label: "Summer '25",
      url: '/services/data/v64.0',
      version: '64.0',
    });
    expect(versions.headers.get('sforce-limit-info')).toBe('api-usage=0/15000');
    const token = await passwordToken(sim.url);
    const root = await call(`${sim.url}/services/data/v62.0/`, { token });
    expect(root.body).toMatchObject({
      sobjects: '/services/data/v62.0/sobjects',
      query: '/services/data/v62.0/query',
      composite: '/services/data/v62.0/composite',
      limits: '/services/data/v62.0/limits',
      identity: expect.stringMatching(new RegExp(`^${sim.url}/id/00D\\w{15}/005\\w{15}$`)),
    });
    expect(root.headers.get('sforce-limit-info')).toBe('api-usage=1/15000');
  });

  it('answers unknown versions, resources and methods in the error array, with the limit header', async () => {
    await using sim = await startSalesforce();
    const token = await passwordToken(sim.url);
    const notFound = [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }];
    for (const path of [
      '/services/data/v99.0/limits',
      '/services/data/latest/limits',
      '/services/data/v62.0/nowhere',
    ]) {
      const answer = await call(`${sim.url}${path}`, { token });
      expect([answer.status, answer.body]).toEqual([404, notFound]);
      expect(answer.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
    }
    const created = await call(`${sim.url}/services/data/v62.0/sobjects/Account`, {
      method: 'POST',
      token,
      json: { Name: 'Acme' },
    });
    const put = await call(`${sim.url}/services/data/v62.0/sobjects/Account/${created.body.id}`, {
      method: 'PUT',
      token,
      json: {},
    });
    expect([put.status, put.body]).toEqual([
      405,
      [
        {
          errorCode: 'METHOD_NOT_ALLOWED',
          message: "HTTP Method 'PUT' not allowed. Allowed are GET,PATCH,DELETE",
        },
      ],
    ]);
    const elsewhere = await call(`${sim.url}/nowhere`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toEqual([
      { message: 'Unrecognized request URL (GET: /nowhere)', errorCode: 'NOT_FOUND' },
    ]);
    expect(elsewhere.headers.get('sforce-limit-info')).toBeTruthy();
  });

  it('reads a JSON body whatever its content type; unreadable JSON is JSON_PARSER_ERROR', async () => {
    await using sim = await startSalesforce();
    const token = await passwordToken(sim.url);
    const url = `${sim.url}/services/data/v62.0/sobjects/Account`;
    // curl -d sends application/x-www-form-urlencoded unless told otherwise
    const lenient = await call(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"Name":"Acme"}',
    });
    expect(lenient).toMatchObject({ status: 201, body: { success: true } });
    expect(lenient.headers.get('location')).toBe(`/services/data/v62.0/sobjects/Account/${lenient.body.id}`);
    for (const contentType of ['application/json', 'text/plain']) {
      const broken = await call(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
        body: '{"Name":',
      });
      expect(broken.status).toBe(400);
      expect(broken.body[0].errorCode).toBe('JSON_PARSER_ERROR');
    }
    const patched = await call(`${url}/${lenient.body.id}`, { method: 'PATCH', token, json: { Phone: '1' } });
    expect([patched.status, patched.body]).toEqual([204, '']);
    // a body declared JSON that does not parse is refused before the session is looked at: not counted
    expect(patched.headers.get('sforce-limit-info')).toBe('api-usage=3/15000');
  });

  it('/_sim/state shows the org, its users and records; reset empties it', async () => {
    await using sim = await startSalesforce();
    const token = await passwordToken(sim.url);
    await call(`${sim.url}/services/data/v62.0/sobjects/Account`, {
      method: 'POST',
      token,
      json: { Name: 'Acme' },
    });
    const state = await call(`${sim.url}/_sim/state`);
    expect(state.body).toMatchObject({
      orgId: expect.stringMatching(/^00D/),
      users: [
        { username: 'admin@planewright.test', hasSecurityToken: false },
        { username: 'integration@planewright.test', hasSecurityToken: true },
      ],
      connectedApps: [{ clientId: 'planewright-client', runAs: 'admin@planewright.test' }],
      records: { Account: [{ Name: 'Acme' }] },
      apiUsage: { used: 1 },
      auth: { sessions: [{ username: 'admin@planewright.test' }] },
    });
    expect(JSON.stringify(state.body)).not.toContain(token);
    await call(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect((await call(`${sim.url}/_sim/state`)).body).toMatchObject({
      records: { Account: [] },
      auth: { sessions: [] },
    });
    expect((await call(`${sim.url}/services/data/v62.0/limits`, { token })).status).toBe(401);
  });

  it('POST /_sim/sessions/expire ends every session at once', async () => {
    await using sim = await startSalesforce();
    const token = await passwordToken(sim.url);
    expect((await call(`${sim.url}/_sim/sessions/expire`, { method: 'POST' })).body).toEqual({ ok: true });
    expect((await call(`${sim.url}/services/data/v62.0/limits`, { token })).body[0].errorCode).toBe(
      'INVALID_SESSION_ID',
    );
  });
});
