// Walks every organization-scoped route of the OpenAPI document with another tenant's
// credentials: each must answer 404, exactly as for an object that does not exist, and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  apiClient,
  startTestControlPlane,
  type TestControlPlane,
} from '../../test/support.ts';
import { exampleBodies as bodies, databaseSpec, fill, type RouteRef, routesOf } from '../../test/walk.ts';

let cp: TestControlPlane;
let routes: RouteRef[];
let a: Tenant;
let b: Tenant;

interface Tenant {
  orgId: string;
  owner: ApiClient;
  apiKey: ApiClient;
  /** One object of each kind, by path-parameter name. */
  ids: Record<string, string>;
}

async function tenant(name: string): Promise<Tenant> {
  const owner = await cp.newOrg(name);
  const base = `/v1/orgs/${owner.orgId}`;
  const member = await cp.newUser(`${name}-member`);
  const invite = await owner.client.post(`${base}/invitations`, { email: member.email, role: 'member' });
  // the one-time token exists only in the invitation email (no email vendor here): join directly
  await member.client.get('/v1/users/me');
  await cp.deps.db.query(
    `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM users WHERE subject = $2`,
    [owner.orgId, member.sub],
  );
  const pending = await owner.client.post(`${base}/invitations`, {
    email: `later-${name}@example.test`,
    role: 'admin',
  });
  const key = await owner.client.post(`${base}/api-keys`, { name: 'ci', role: 'admin' });
  const secret = await owner.client.post(`${base}/secrets`, { name: 'db-password', value: 's3cret' });
  const resource = await owner.client.post(`${base}/resources`, {
    kind: 'database',
    name: 'main',
    spec: { ...databaseSpec, secretRef: 'db-password' },
  });
  const members = await owner.client.get(`${base}/members`);
  const memberId = members.body.data.find((m: { role: string }) => m.role === 'member').userId;
  for (const response of [invite, pending, key, secret, resource]) expect(response.status).toBeLessThan(300);
  return {
    orgId: owner.orgId,
    owner: owner.client,
    apiKey: apiClient(cp.url, key.body.key),
    ids: {
      orgId: owner.orgId,
      userId: memberId,
      invitationId: pending.body.id,
      keyId: key.body.id,
      secretId: secret.body.id,
      resourceId: resource.body.resource.id,
    },
  };
}

/** Everything a tenant owns, to prove that the walk changed nothing. */
async function snapshot(orgId: string) {
  const tables = [
    'organizations',
    'memberships',
    'invitations',
    'api_keys',
    'secrets',
    'resources',
    'billing_accounts',
  ];
  const state: Record<string, unknown> = {};
  for (const table of tables) {
    const column = table === 'organizations' ? 'id' : 'org_id';
    const { rows } = await cp.deps.db.query(`SELECT * FROM ${table} WHERE ${column} = $1 ORDER BY 1`, [
      orgId,
    ]);
    // last_used_at moves whenever a key authenticates; it is not the tenant's data
    state[table] = rows.map(({ last_used_at: _, ...row }) => row);
  }
  return state;
}

beforeAll(async () => {
  cp = await startTestControlPlane();
  routes = routesOf((await cp.anonymous.get('/openapi.json')).body).filter((r) => r.params.includes('orgId'));
  a = await tenant('alpha');
  b = await tenant('bravo');
});
afterAll(() => cp?.close());

describe('tenant isolation', () => {
  it('covers every organization-scoped route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const route of routes) {
      if (route.hasBody)
        expect(bodies[`${route.method} ${route.path}`], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it("answers 404 to another tenant's user and API key on every route, and changes nothing", async () => {
    const before = await snapshot(a.orgId);
    const failures: string[] = [];
    for (const route of routes) {
      const body = bodies[`${route.method} ${route.path}`];
      const path = fill(route.path, a.ids);
      for (const [who, client] of [
        ['user', b.owner],
        ['api key', b.apiKey],
      ] as const) {
        const response = await client.call(route.method.toUpperCase(), path, body);
        if (response.status !== 404 || response.body?.error?.code !== 'not_found') {
          failures.push(
            `${route.method.toUpperCase()} ${route.path} as ${who} of another org: ${response.status}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshot(a.orgId)).toEqual(before);
  });

  it("answers 404 for another tenant's object inside the caller's own organization", async () => {
    const before = await snapshot(a.orgId);
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.params.length > 1)) {
      // the caller's own organization, with object ids of the other tenant
      const path = fill(route.path, { ...a.ids, orgId: b.orgId });
      const response = await b.owner.call(
        route.method.toUpperCase(),
        path,
        bodies[`${route.method} ${route.path}`],
      );
      if (response.status !== 404)
        failures.push(`${route.method.toUpperCase()} ${route.path}: ${response.status}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot(a.orgId)).toEqual(before);
  });

  it('answers exactly as for an object that does not exist', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const theirs = await b.owner.get(`/v1/orgs/${b.orgId}/resources/${a.ids.resourceId}`);
    const nobody = await b.owner.get(`/v1/orgs/${b.orgId}/resources/${missing}`);
    expect(theirs.status).toBe(nobody.status);
    expect(theirs.body.error.message).toBe(nobody.body.error.message);
    const theirOrg = await b.owner.get(`/v1/orgs/${a.orgId}`);
    const noOrg = await b.owner.get(`/v1/orgs/${missing}`);
    expect(theirOrg.body.error.message).toBe(noOrg.body.error.message);
  });
});
