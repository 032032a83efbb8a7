// Plan upgrade (trial to paid), end to end: a real control plane (child process) with the Stripe,
// Salesforce and auth simulators and a fleet. Billing starts on a trial (a Stripe subscription
// trialing on the starter price, an Opportunity in prospecting); the owner upgrades to pro: the
// subscription moves to the pro price at Stripe and the trial ends with a paid invoice; the pro
// plan's limits reach the desired state of the organization's live resources and the agents run
// them (and report having done so); the Opportunity is won at the pro price. Every effect is read
// from the simulators' state.
import Stripe from 'stripe';
import { describe, expect } from 'vitest';
import { type ControlPlaneClient, eventually, scenario, type Tenant } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
  simulators: ['stripe', 'salesforce', 'auth'],
  fleet: { agentsPerCell: 1, agent: { waitMs: 1_000, heartbeatMs: 500, backoffCapMs: 500 } },
  controlPlane: {
    env: {
      FLOW_RETRY_BASE_MS: '50',
      FLOW_RETRY_MAX_MS: '500',
      AGENT_RATE_LIMIT_PER_SEC: '200',
      AGENT_RATE_LIMIT_BURST: '200',
    },
  },
});

const spec = { engine: 'postgres', version: '16', storageGb: 10 };
const proLimits = { maxResources: 25, maxStorageGb: 1000, concurrentBuilds: 8 };

const stripeOf = (sim: { url: string }) => {
  const url = new URL(sim.url);
  return new Stripe('sk_test_scenario_upgrade', {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
};

async function finishedFlow(admin: ControlPlaneClient, flowId: string, timeoutMs = 20_000) {
  return eventually(
    `flow ${flowId} finished`,
    async () => {
      const flow = await admin.get(`/v1/admin/flows/${flowId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(flow.body.state) && flow.body;
    },
    timeoutMs,
  );
}

async function opportunities(salesforce: { url: string }, subscriptionId: string) {
  const state = (await (await fetch(`${salesforce.url}/_sim/state`)).json()) as {
    records: Record<string, Record<string, any>[]>;
  };
  return (state.records.Opportunity ?? []).filter(
    (o) => o.External_Id__c === `subscription:${subscriptionId}` && !o.IsDeleted,
  );
}

async function readyResource(tenant: Tenant, name: string): Promise<string> {
  const created = await tenant.client.post(tenant.path('/resources'), {
    kind: 'database',
    name,
    spec,
    cell: 'cell-1',
  });
  expect(created.status).toBe(202);
  const id = created.body.resource.id as string;
  await eventually(
    'ready',
    async () => (await tenant.client.get(tenant.path(`/resources/${id}`))).body.phase === 'ready',
  );
  return id;
}

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

describe('plan upgrade', () => {
  test('trial to pro: Stripe subscription, data-plane limits applied by the agents, CRM opportunity won', async ({
    tenant,
    admin,
    stripe: stripeSim,
    salesforce,
    fleet,
  }) => {
    const stripe = stripeOf(stripeSim);
    const resourceId = await readyResource(tenant, 'orders');
    const agent = agentOf(fleet.agents, 'cell-1');
    // a trial runs with the data plane's defaults: no limits in its desired state
    expect(agent.get(resourceId)?.desired).not.toHaveProperty('limits');

    const started = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'trial',
      paymentMethod: 'pm_card_visa',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect((await finishedFlow(admin, started.body.flowId)).state).toBe('succeeded');
    const [customer] = (await stripe.customers.list({ limit: 100 })).data.filter(
      (c) => c.metadata.orgId === tenant.orgId,
    );
    expect(customer).toBeDefined();
    const [trial] = (await stripe.subscriptions.list({ customer: customer!.id })).data;
    expect(trial).toMatchObject({ status: 'trialing' });
    expect(trial!.items.data[0]!.price.lookup_key).toBe('planewright_starter_monthly');
    expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
      plan: 'trial',
      status: 'trialing',
    });
    const [prospect] = await opportunities(salesforce, trial!.id);
    expect(prospect).toMatchObject({ StageName: 'Prospecting', Amount: 29 });

    const upgraded = await tenant.client.put(tenant.path('/billing/plan'), { plan: 'pro' });
    expect(upgraded.status, JSON.stringify(upgraded.body)).toBe(202);
    const flow = await finishedFlow(admin, upgraded.body.flowId);
    expect(flow.state).toBe('succeeded');
    // the agents reported after applying the limits, and the flow waited for it
    expect(flow.context.limitsConfirmed).toBe(true);

    // Stripe: the pro price, the trial over, the first pro invoice paid
    const paid = await stripe.subscriptions.retrieve(trial!.id);
    expect(paid.status).toBe('active');
    expect(paid.items.data).toHaveLength(1);
    expect(paid.items.data[0]!.price).toMatchObject({
      lookup_key: 'planewright_pro_monthly',
      unit_amount: 9_900,
    });
    const invoices = (await stripe.invoices.list({ customer: customer!.id })).data;
    expect(invoices.filter((i) => i.status === 'paid' && i.amount_paid === 9_900)).toHaveLength(1);

    // the data plane runs the pro limits; nothing else of the resource changed
    expect(agent.get(resourceId)?.desired).toMatchObject({
      limits: proLimits,
      phase: 'active',
      generation: 1,
    });
    expect(agent.get(resourceId)?.spec).toEqual(spec);
    expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
      plan: 'pro',
      status: 'active',
      trialEndsAt: null,
    });
    // a resource created after the upgrade gets them from its first event (and snapshot) on
    const later = await readyResource(tenant, 'later');
    expect(agent.get(later)?.desired).toMatchObject({ limits: proLimits });

    // the CRM: the same opportunity, won at the pro price
    const won = await opportunities(salesforce, trial!.id);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ Id: prospect!.Id, StageName: 'Closed Won', Amount: 99, IsWon: true });
  });

  test("a refused card fails the setup with Stripe's reason; a good card then starts billing", async ({
    tenant,
    admin,
    stripe: stripeSim,
  }) => {
    const stripe = stripeOf(stripeSim);
    const refused = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'pro',
      paymentMethod: 'pm_card_chargeCustomerFail',
    });
    expect(refused.status).toBe(202);
    const failed = await finishedFlow(admin, refused.body.flowId);
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toContain('card_declined');
    const mine = async () =>
      (await stripe.customers.list({ limit: 100 })).data.filter((c) => c.metadata.orgId === tenant.orgId);
    const [customer] = await mine();
    expect((await stripe.subscriptions.list({ customer: customer!.id })).data).toHaveLength(0);
    expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
      plan: 'trial',
      status: 'trialing',
    });

    const retried = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'pro',
      paymentMethod: 'pm_card_visa',
    });
    expect(retried.status).toBe(202);
    expect((await finishedFlow(admin, retried.body.flowId)).state).toBe('succeeded');
    expect(await mine()).toHaveLength(1);
    const [subscription] = (await stripe.subscriptions.list({ customer: customer!.id })).data;
    expect(subscription).toMatchObject({ status: 'active' });
    const card = await stripe.paymentMethods.retrieve(
      ((await stripe.customers.retrieve(customer!.id)) as Stripe.Customer).invoice_settings
        .default_payment_method as string,
    );
    expect(card.card?.last4).toBe('4242');
    expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
      plan: 'pro',
      status: 'active',
    });
  });

  test('bad or contradictory plan changes get a clear 4xx and start nothing', async ({
    env,
    tenant,
    admin,
  }) => {
    const path = tenant.path('/billing/plan');
    expect((await tenant.client.put(path, { plan: 'pro' })).status).toBe(409); // billing not started
    const started = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'starter',
      paymentMethod: 'pm_card_visa',
    });
    expect(started.status).toBe(202);
    expect((await finishedFlow(admin, started.body.flowId)).state).toBe('succeeded');
    const again = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'pro',
      paymentMethod: 'pm_card_visa',
    });
    const viewer = await env.newUser('viewer');
    const answers = [
      again,
      await tenant.client.put(path, { plan: 'trial' }),
      await tenant.client.put(path, { plan: 'starter' }),
      await tenant.client.put(path, { plan: 'pro', when: 'now' }),
      await tenant.client.put(path, {}),
      await tenant.client.as(viewer.token).put(path, { plan: 'pro' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([409, 400, 409, 400, 400, 404]);
    for (const answer of answers) expect(answer.body.error.message).toBeTruthy();
    const flows = (await admin.get(`/v1/admin/flows?orgId=${tenant.orgId}`)).body.data as { type: string }[];
    expect(flows.map((f) => f.type)).toEqual(['billing-setup']);
  });
});
