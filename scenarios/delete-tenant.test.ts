// Delete tenant (issue 7, item 8), end to end: the owner deletes the organization; its Stripe
// subscription is cancelled, its Salesforce account updated, every data-plane resource removed
// with the agents' confirmation, members without another organization removed from the auth
// provider, and, once the retention period has passed on the flow clock, its metadata purged while
// the audit log stays. Each side effect is read back from the simulators and the fleet's local data
// plane. Variant: an agent partitioned during the deletion holds the flow until it returns. Bad
// input (item 11): a clear 4xx, nothing started, nothing lost.
import jsforce from 'jsforce';
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, describe, expect } from 'vitest';
import { type ControlPlaneClient, eventually, scenario, type Tenant } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
  fleet: { agentsPerCell: 1, agent: { waitMs: 1_000, heartbeatMs: 500, backoffCapMs: 300 } },
  controlPlane: {
    env: {
      AGENT_RATE_LIMIT_PER_SEC: '200',
      AGENT_RATE_LIMIT_BURST: '200',
      FLOW_RETRY_BASE_MS: '50',
      FLOW_RETRY_MAX_MS: '500',
    },
  },
});

const day = 86_400_000;
const retentionMs = 30 * day;
const spec = { engine: 'postgres', version: '16', storageGb: 10 };

let pool: pg.Pool | undefined;
const sql = (databaseUrl: string) => {
  pool ??= new pg.Pool({ connectionString: databaseUrl, max: 2 });
  return pool;
};
afterAll(() => pool?.end());

const stripeOf = (url: string) => {
  const { hostname, port } = new URL(url);
  return new Stripe('sk_test_planewright_scenario', { host: hostname, port: Number(port), protocol: 'http' });
};

async function salesforceOf(url: string) {
  const connection = new jsforce.Connection({
    loginUrl: url,
    version: '62.0',
    oauth2: { loginUrl: url, clientId: 'planewright-client', clientSecret: 'planewright-secret' },
  });
  await connection.login('admin@planewright.test', 'planewright');
  return connection;
}

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

async function createReadyResource(tenant: Tenant, name: string, cell: string) {
  const created = await tenant.client.post(tenant.path('/resources'), { kind: 'database', name, spec, cell });
  expect(created.status).toBe(202);
  const id = created.body.resource.id as string;
  await eventually(`${name} ready`, async () => {
    const resource = await tenant.client.get(tenant.path(`/resources/${id}`));
    return resource.body.phase === 'ready';
  });
  return id;
}

/** A user of the auth simulator known to the control plane (their first request creates them). */
async function knownUser(
  env: { newUser(name: string): Promise<{ sub: string; token: string }> },
  client: ControlPlaneClient,
  name: string,
) {
  const user = await env.newUser(name);
  const me = await client.as(user.token).get('/v1/users/me');
  expect(me.status).toBe(200);
  return { ...user, userId: me.body.id as string };
}

async function flowOf(admin: ControlPlaneClient, flowId: string) {
  return (await admin.get(`/v1/admin/flows/${flowId}`)).body;
}

const waitForStep = (admin: ControlPlaneClient, flowId: string, step: string, timeoutMs = 20_000) =>
  eventually(
    `delete-tenant at ${step}`,
    async () => {
      const flow = await flowOf(admin, flowId);
      if (flow.state === 'failed') throw new Error(`the flow failed: ${flow.lastError}`);
      return flow.state === 'waiting' && flow.currentStep === step && flow;
    },
    timeoutMs,
  );

async function purge(admin: ControlPlaneClient, flowId: string) {
  const moved = await admin.post('/v1/admin/clock', { advanceMs: retentionMs + 60_000 });
  expect(moved.status).toBe(200);
  return eventually('purged', async () => {
    const flow = await flowOf(admin, flowId);
    return flow.state === 'succeeded' && flow;
  });
}

describe('delete tenant', () => {
  test('cancels, updates the CRM, deprovisions, removes lone users, purges after retention, keeps the audit', async ({
    env,
    tenant,
    admin,
    fleet,
    stripe,
    salesforce,
    auth,
    traces,
  }) => {
    const db = sql(env.databaseUrl);
    // billing as billing setup leaves it: a Stripe customer with a subscription, a Salesforce account
    const payments = stripeOf(stripe.url);
    const customer = await payments.customers.create({
      email: tenant.email,
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = await payments.prices.create({
      currency: 'usd',
      unit_amount: 2_900,
      recurring: { interval: 'month' },
      product_data: { name: 'Starter' },
    });
    const subscription = await payments.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
    });
    const crm = await salesforceOf(salesforce.url);
    const account = await crm.sobject('Account').create({ Name: 'Doomed Tenant', Type: 'Customer - Direct' });
    await db.query(
      `UPDATE billing_accounts SET external_customer_id = $2, stripe_subscription_id = $3, salesforce_account_id = $4
        WHERE org_id = $1`,
      [tenant.orgId, customer.id, subscription.id, account.id],
    );
    const accountsBefore = (await crm.query('SELECT Id FROM Account')).totalSize;

    const onCell1 = await createReadyResource(tenant, 'orders', 'cell-1');
    const onCell2 = await createReadyResource(tenant, 'events', 'cell-2');
    const [agent1, agent2] = [agentOf(fleet.agents, 'cell-1'), agentOf(fleet.agents, 'cell-2')];
    expect(agent1.get(onCell1) && agent2.get(onCell2)).toBeTruthy();

    // bob and dave belong to this organization only; carol also to her own
    const bob = await knownUser(env, tenant.client, 'bob');
    const dave = await knownUser(env, tenant.client, 'dave');
    const carol = await knownUser(env, tenant.client, 'carol');
    const carolsOrg = await tenant.client
      .as(carol.token)
      .post('/v1/orgs', { name: 'Carol Co', slug: `carol-${carol.userId.slice(0, 8)}` });
    expect(carolsOrg.status).toBe(201);
    for (const user of [bob, dave, carol])
      await db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'member')`, [
        tenant.orgId,
        user.userId,
      ]);
    // dave is already gone from the auth provider: its 404 counts as done
    auth.state.users.delete(dave.sub);
    const key = await tenant.client.post(tenant.path('/api-keys'), { name: 'ci', role: 'admin' });
    expect(key.status).toBe(201);
    const apiKey = tenant.client.as(key.body.key);
    await eventually('key active', async () => (await apiKey.get(tenant.path(''))).status === 200);

    const deletion = await tenant.client.delete(tenant.path(''));
    expect(deletion.status).toBe(202);
    const { flowId, purgeAfter } = deletion.body;
    expect(Date.parse(purgeAfter) - Date.now()).toBeGreaterThan(retentionMs - 60_000);
    // gone for everyone at once: the owner, the list, its API key
    expect((await tenant.client.get(tenant.path(''))).status).toBe(404);
    expect((await apiKey.get(tenant.path(''))).status).toBe(401);

    await waitForStep(admin, flowId, 'await-retention');
    // Stripe: the subscription is cancelled, once
    expect((await payments.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    const cancellations = await payments.events.list({ type: 'customer.subscription.deleted', limit: 100 });
    expect(
      cancellations.data.filter((event) => (event.data.object as { id: string }).id === subscription.id),
    ).toHaveLength(1);
    // Salesforce: the account is marked, and no record was added
    const marked = await crm.sobject('Account').retrieve(account.id!);
    expect(marked).toMatchObject({ Type: 'Other', Description: expect.stringContaining('deleted') });
    expect((await crm.query('SELECT Id FROM Account')).totalSize).toBe(accountsBefore);
    // the data plane: both agents dropped the resources from their local data plane
    await eventually('agents dropped the resources', () => !agent1.get(onCell1) && !agent2.get(onCell2));
    const resources = await db.query('SELECT phase, deleted_at FROM resources WHERE org_id = $1', [
      tenant.orgId,
    ]);
    expect(resources.rows.map((row) => row.phase)).toEqual(['deleted', 'deleted']);
    // the auth provider: the owner and bob removed, carol kept (she still has her organization)
    expect(auth.state.users.has(tenant.sub)).toBe(false);
    expect(auth.state.users.has(bob.sub)).toBe(false);
    expect(auth.state.users.has(carol.sub)).toBe(true);
    expect((await tenant.client.as(bob.token).get('/v1/users/me')).status).toBe(401);
    const carols = await tenant.client.as(carol.token).get('/v1/orgs');
    expect(carols.body.data.map((org: { id: string }) => org.id)).toEqual([carolsOrg.body.id]);
    // metadata is still there, hidden, until the retention period is over
    expect((await db.query('SELECT 1 FROM organizations WHERE id = $1', [tenant.orgId])).rowCount).toBe(1);

    await purge(admin, flowId);
    for (const table of ['organizations', 'memberships', 'resources', 'billing_accounts', 'api_keys']) {
      const column = table === 'organizations' ? 'id' : 'org_id';
      const left = await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [
        tenant.orgId,
      ]);
      expect({ table, left: left.rows[0].n }).toEqual({ table, left: 0 });
    }
    const audit = await db.query<{ action: string }>(
      'SELECT DISTINCT action FROM audit_log WHERE org_id = $1 ORDER BY action',
      [tenant.orgId],
    );
    expect(audit.rows.map((row) => row.action)).toEqual(
      expect.arrayContaining([
        'organization.created',
        'organization.deletion_requested',
        'billing.subscription_cancelled',
        'resource.deprovision_requested',
        'resource.deleted',
        'user.deleted',
        'organization.purged',
      ]),
    );
    // one trace: the owner's request and every step, the purge a month later on the flow clock included
    const steps = [
      'plan',
      'cancel-subscription',
      'update-crm',
      'deprovision-resources',
      'remove-users',
      'purge',
    ];
    const spans = await traces.store.waitFor({
      flowId,
      names: steps.map((step) => `flow delete-tenant ${step}`),
    });
    const traceIds = new Set(spans.map((span) => span.traceId));
    expect(traceIds.size).toBe(1);
    const trace = traces.store.trace([...traceIds][0]!);
    expect(trace.some((span) => span.name === 'DELETE /v1/orgs/:orgId')).toBe(true);
    const erased = await db.query<{ subject: string }>(
      `SELECT u.subject FROM audit_log a JOIN users u ON u.id::text = a.target_id
        WHERE a.org_id = $1 AND a.action = 'user.deleted' ORDER BY u.subject`,
      [tenant.orgId],
    );
    expect(erased.rows.map((row) => row.subject).sort()).toEqual([tenant.sub, bob.sub, dave.sub].sort());
  });

  test('an agent partitioned during the deletion holds the flow until it returns', async ({
    tenant,
    admin,
    fleet,
  }) => {
    const onCell1 = await createReadyResource(tenant, 'api', 'cell-1');
    const onCell2 = await createReadyResource(tenant, 'jobs', 'cell-2');
    const [agent1, agent2] = [agentOf(fleet.agents, 'cell-1'), agentOf(fleet.agents, 'cell-2')];
    const partition = fleet.inject({ kind: 'partition' }, { cells: ['cell-2'] });
    try {
      const deletion = await tenant.client.delete(tenant.path(''));
      expect(deletion.status).toBe(202);
      const { flowId } = deletion.body;
      // no Stripe customer, no CRM account: those steps have nothing to do
      const waiting = await waitForStep(admin, flowId, 'await-data-plane');
      await eventually(
        'cell-1 applied the removal',
        () => agent1.get(onCell1)?.desired.phase === 'deprovisioning',
      );
      await eventually('the flow waits for the partitioned cell', async () => {
        const flow = await flowOf(admin, flowId);
        return flow.waitingFor === `resource:${onCell2}` && flow;
      });
      expect(waiting.state).toBe('waiting');
      // the partitioned agent keeps serving what it had
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(agent2.get(onCell2)?.desired.phase).toBe('active');
      expect((await flowOf(admin, flowId)).currentStep).toBe('await-data-plane');
      expect(fleet.counters().partitioned).toBe(1);

      partition.clear();
      await waitForStep(admin, flowId, 'await-retention');
      await eventually('both agents dropped them', () => !agent1.get(onCell1) && !agent2.get(onCell2));
      const done = await purge(admin, flowId);
      expect(done.lastError).toBeNull();
    } finally {
      partition.clear();
    }
  });

  test('bad input: a clear 4xx, nothing started, nothing lost', async ({ env, tenant, admin, stripe }) => {
    const db = sql(env.databaseUrl);
    const resource = await tenant.client.post(tenant.path('/resources'), {
      kind: 'database',
      name: 'keep',
      spec,
      cell: 'cell-1',
    });
    expect(resource.status).toBe(202);
    const adminUser = await knownUser(env, tenant.client, 'admin');
    await db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')`, [
      tenant.orgId,
      adminUser.userId,
    ]);
    const ownerKey = await tenant.client.post(tenant.path('/api-keys'), { name: 'owner-key', role: 'owner' });
    expect(ownerKey.status).toBe(201);
    const keyClient = tenant.client.as(ownerKey.body.key);
    await eventually('key active', async () => (await keyClient.get(tenant.path(''))).status === 200);
    const stranger = await env.newUser('stranger');

    const attempts: [string, Promise<{ status: number; body: any }>, number, string][] = [
      ['malformed id', tenant.client.delete('/v1/orgs/not-a-uuid'), 400, 'validation_failed'],
      ['unknown id', tenant.client.delete('/v1/orgs/00000000-0000-4000-8000-000000000000'), 404, 'not_found'],
      ['no token', tenant.client.as(undefined).delete(tenant.path('')), 401, 'unauthorized'],
      ['another tenant', tenant.client.as(stranger.token).delete(tenant.path('')), 404, 'not_found'],
      ['an admin, not an owner', tenant.client.as(adminUser.token).delete(tenant.path('')), 403, 'forbidden'],
      ['an API key, even an owner one', keyClient.delete(tenant.path('')), 403, 'forbidden'],
      ['the operator token', admin.delete(tenant.path('')), 403, 'forbidden'],
    ];
    for (const [what, answer, status, code] of attempts) {
      const { status: got, body } = await answer;
      expect({ what, status: got, code: body?.error?.code }).toEqual({ what, status, code });
      expect(body.error.message.length).toBeGreaterThan(10);
    }
    // nothing started, nothing lost: no deletion flow, the organization, its resource and key still work
    const flows = await admin.get(`/v1/admin/flows?type=delete-tenant&orgId=${tenant.orgId}`);
    expect(flows.body.data).toEqual([]);
    expect((await tenant.client.get(tenant.path(''))).status).toBe(200);
    expect((await keyClient.get(tenant.path(`/resources/${resource.body.resource.id}`))).body.phase).not.toBe(
      'deprovisioning',
    );

    // contradictory: billing is being set up (Stripe slowed down) while the owner deletes
    stripe.faults.add({
      id: 'slow-customer',
      match: { method: 'POST', path: '/v1/customers' },
      fault: { kind: 'latency', ms: 1_500 },
    });
    const setup = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'starter',
      paymentMethod: 'pm_card_visa',
    });
    expect(setup.status).toBe(202);
    const racing = await tenant.client.delete(tenant.path(''));
    expect(racing.status).toBe(409);
    expect(racing.body.error.message).toContain('billing-setup');
    stripe.faults.remove('slow-customer');
    await eventually(
      'billing set up',
      async () => (await admin.get(`/v1/admin/flows/${setup.body.flowId}`)).body.state === 'succeeded',
    );
    expect((await admin.get(`/v1/admin/flows?type=delete-tenant&orgId=${tenant.orgId}`)).body.data).toEqual(
      [],
    );

    // deleting twice: the second request finds nothing to delete, and no second flow starts
    const first = await tenant.client.delete(tenant.path(''));
    expect(first.status).toBe(202);
    const second = await tenant.client.delete(tenant.path(''));
    expect(second.status).toBe(404);
    const started = await admin.get(`/v1/admin/flows?type=delete-tenant&orgId=${tenant.orgId}`);
    expect(started.body.data.map((flow: { id: string }) => flow.id)).toEqual([first.body.flowId]);
    // the subscription billing setup made is the one the deletion cancels
    await waitForStep(admin, first.body.flowId, 'await-retention');
    const { rows } = await db.query('SELECT stripe_subscription_id FROM billing_accounts WHERE org_id = $1', [
      tenant.orgId,
    ]);
    expect((await stripeOf(stripe.url).subscriptions.retrieve(rows[0].stripe_subscription_id)).status).toBe(
      'canceled',
    );
  });
});
