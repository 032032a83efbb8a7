// Sends bad input to every route of the OpenAPI document: each answers a clear 4xx in the error
// format, never a 5xx, and nothing in the database changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestControlPlane, type TestControlPlane } from '../../test/support.ts';
import { exampleBodies, fill, type RouteRef, routesOf, withNul } from '../../test/walk.ts';

let cp: TestControlPlane;
let routes: RouteRef[];
let owner: ApiClient;
let ids: Record<string, string>;
/** The agent routes take an agent credential: a user token would stop every request at 403. */
let agent: ApiClient;

beforeAll(async () => {
  cp = await startTestControlPlane();
  routes = routesOf((await cp.anonymous.get('/openapi.json')).body);
  const org = await cp.newOrg('inputs');
  owner = org.client;
  const base = `/v1/orgs/${org.orgId}`;
  const secret = await owner.post(`${base}/secrets`, { name: 'pw', value: 'x' });
  const resource = await owner.post(`${base}/resources`, {
    kind: 'database',
    name: 'db',
    spec: { engine: 'postgres', version: '16', storageGb: 5 },
  });
  const invitation = await owner.post(`${base}/invitations`, { email: 'i@example.test', role: 'member' });
  const key = await owner.post(`${base}/api-keys`, { name: 'k', role: 'member' });
  const me = await owner.get('/v1/users/me');
  ids = {
    orgId: org.orgId,
    userId: me.body.id,
    secretId: secret.body.id,
    resourceId: resource.body.resource.id,
    invitationId: invitation.body.id,
    keyId: key.body.id,
    flowId: resource.body.flowId,
    cellId: 'cell-1',
  };
  agent = (await cp.newAgent('cell-1', 'walker')).client;
});
afterAll(() => cp?.close());

async function counts() {
  const { rows } = await cp.deps.db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT IN ('pgmigrations', 'flow_steps', 'flow_signals')`,
  );
  const result: Record<string, unknown> = {};
  for (const { table_name } of rows) {
    const counted = await cp.deps.db.query(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '' ORDER BY t::text)) AS digest FROM ${table_name} t`,
    );
    result[table_name] = counted.rows[0];
  }
  return result;
}

function clientFor(route: RouteRef) {
  if (route.path.startsWith('/v1/agent/') && !route.public) return agent;
  return route.admin ? cp.admin : owner;
}

function expectClientError(
  route: RouteRef,
  what: string,
  response: { status: number; body: any },
  failures: string[],
) {
  const label = `${route.method.toUpperCase()} ${route.path} (${what})`;
  if (response.status < 400 || response.status >= 500) failures.push(`${label}: ${response.status}`);
  else if (!response.body?.error?.code || !response.body.error.message || !response.body.error.requestId) {
    failures.push(`${label}: no error body`);
  }
}

describe('bad input on every route', () => {
  it('answers 4xx with the error format, never 5xx, and changes nothing', async () => {
    // settle the flows started above, so their work does not count as a change
    for (let waited = 0; waited < 10_000; waited += 50) {
      const { rows } = await cp.deps.db.query(
        `SELECT count(*)::int AS busy FROM flows WHERE state IN ('pending', 'running') OR (state = 'waiting' AND next_run_at <= clock_now())`,
      );
      if (rows[0].busy === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = await counts();
    const failures: string[] = [];
    for (const route of routes) {
      const client = clientFor(route);
      const method = route.method.toUpperCase();
      for (const param of route.params) {
        const path = fill(route.path, { ...ids, [param]: 'not-a-uuid' });
        expectClientError(
          route,
          `bad {${param}}`,
          await client.call(method, path, route.hasBody ? {} : undefined),
          failures,
        );
      }
      const path = fill(route.path, ids);
      if (route.hasBody) {
        expectClientError(route, 'invalid JSON', await client.call(method, path, '{"oops":'), failures);
        expectClientError(route, 'array body', await client.call(method, path, '[1,2]'), failures);
        expectClientError(
          route,
          'wrong fields',
          await client.call(method, path, { unexpected: { nested: true } }),
          failures,
        );
        expectClientError(
          route,
          'huge body',
          await client.call(method, path, { blob: 'x'.repeat(300_000) }),
          failures,
        );
        expectClientError(
          route,
          'not JSON',
          await client.call(method, path, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
          failures,
        );
      }
      const example = exampleBodies[`${route.method} ${route.path}`];
      // a secret's value is encrypted into bytes: NUL is a character it may hold
      const nulIsData = route.path.endsWith('/secrets/{secretId}/value');
      if (example && !nulIsData) {
        expectClientError(
          route,
          'NUL in strings',
          await client.call(method, path, withNul(example)),
          failures,
        );
      }
      for (const name of route.query) {
        expectClientError(
          route,
          `NUL in ${name}`,
          await client.call(method, `${path}?${name}=a%00b`),
          failures,
        );
      }
      if (route.query.includes('limit')) {
        expectClientError(route, 'limit=-1', await client.call(method, `${path}?limit=-1`), failures);
        expectClientError(route, 'limit=abc', await client.call(method, `${path}?limit=abc`), failures);
      }
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});
