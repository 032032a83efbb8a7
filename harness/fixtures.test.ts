// The fixtures as a scenario uses them: one environment for the file, a tenant per test.
import { describe, expect } from 'vitest';
import { scenario } from './fixtures.ts';

const test = scenario({ simulators: ['auth', 'stripe'] });
const seen = new Set<string>();

describe('scenario fixtures', () => {
  test('give each test its own tenant on the file environment', async ({
    env,
    tenant,
    controlPlane,
    admin,
  }) => {
    seen.add(env.databaseUrl);
    const orgs = await controlPlane.get('/v1/orgs');
    expect(orgs.status).toBe(200);
    expect(orgs.body.data).toEqual([expect.objectContaining({ id: tenant.orgId, role: 'owner' })]);
    expect((await admin.get('/v1/admin/flows')).status).toBe(200);
    // another caller on the same control plane
    expect((await controlPlane.as(undefined).get('/v1/orgs')).status).toBe(401);
  });

  test('share the environment, not the tenant', async ({ env, tenant, controlPlane, stripe }) => {
    expect(seen.has(env.databaseUrl)).toBe(true);
    const orgs = await controlPlane.get('/v1/orgs');
    expect(orgs.body.data.map((org: { id: string }) => org.id)).toEqual([tenant.orgId]);
    expect((await fetch(`${stripe.url}/_sim/health`)).status).toBe(200);
  });

  test('apply a fault schedule for one test and journal its decisions', async ({ stripe, faults }) => {
    await faults.apply({
      faults: [
        {
          component: 'stripe',
          rule: { match: { path: '/v1/customers' }, fault: { kind: 'error', status: 502 }, count: 1 },
        },
      ],
    });
    const status = await fetch(`${stripe.url}/v1/customers`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=f%40example.test',
    }).then((response) => response.status);
    expect(status).toBe(502);
    expect(faults.journal().simulators.stripe!.entries.at(-1)).toMatchObject({
      fault: { kind: 'error', status: 502 },
    });
    await expect(faults.apply({ faults: [{ component: 'notify', rule: {} }] } as never)).rejects.toThrow(
      /no notify simulator/,
    );
  });

  test('name what the environment does not have', async ({ env }) => {
    expect(env.fleet).toBeUndefined();
    expect(env.notify).toBeUndefined();
  });
});
