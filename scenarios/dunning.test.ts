// Card expired (dunning), end to end: a real control plane (child process) with the Stripe,
// Salesforce, auth and notify simulators and a fleet. A card that expires at the end of January
// lives on a Stripe test clock; the February renewal fails with `expired_card`; the signed
// `invoice.payment_failed` webhook starts one dunning flow; only the owner and the billing admin are
// emailed; the Salesforce Account's owner gets a Task; after the grace period (the flow clock moved
// past BILLING_GRACE_PERIOD_MS's default) the agents run the organization's resources suspended
// while their rows and specs stay; a new card pays the invoice and everything resumes, and the
// suspended time is added to the paid period at Stripe. Variants: the webhook delivered twice,
// Salesforce throttling, an email outage. Every effect is read from the simulators' state.
import pg from 'pg';
import Stripe from 'stripe';
import { describe, expect } from 'vitest';
import { type ControlPlaneClient, eventually, scenario, type Tenant } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
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

const day = 86_400_000;
/** BILLING_GRACE_PERIOD_MS's default: the scenario relies on it rather than setting it. */
const defaultGraceMs = 7 * day;
const startOfClock = Date.parse('2031-01-15T00:00:00Z');
const spec = { engine: 'postgres', version: '16', storageGb: 10 };

type Env = { databaseUrl: string; controlPlane?: { url: string }; newUser(name: string): Promise<User> };
type User = { email: string; sub: string; token: string };
type Sim = { url: string };

const stripeOf = (sim: Sim) => {
  const url = new URL(sim.url);
  return new Stripe('sk_test_scenario_dunning', {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
};

/** A user of the auth simulator who is a member of the tenant's organization with `role`. */
async function addMember(env: Env, tenant: Tenant, name: string, role: string): Promise<User> {
  const user = await env.newUser(name);
  // the first request creates the control plane's user row
  await tenant.client.as(user.token).get('/v1/users/me');
  // memberships by SQL: the invitation flow is its own scenario
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, $3 FROM users WHERE subject = $2`,
      [tenant.orgId, user.sub, role],
    );
  } finally {
    await db.end();
  }
  return user;
}

interface Mail {
  to: string;
  subject: string;
  links: string[];
  vendor: { categories: string[] };
}

async function mailbox(notify: Sim, to: string, wait = '0'): Promise<Mail[]> {
  const query = new URLSearchParams({ to, status: 'any', channel: 'email', wait });
  const answer = (await (await fetch(`${notify.url}/_sim/messages?${query}`)).json()) as { messages: Mail[] };
  return answer.messages.filter((message) => message.vendor.categories.includes('billing-payment-failed'));
}

async function salesforceRecords(salesforce: Sim, type: string): Promise<Record<string, any>[]> {
  const state = (await (await fetch(`${salesforce.url}/_sim/state`)).json()) as {
    records: Record<string, Record<string, any>[]>;
  };
  return (state.records[type] ?? []).filter((record) => !record.IsDeleted);
}

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

const flowsOf = async (admin: ControlPlaneClient, orgId: string, type: string) =>
  (await admin.get(`/v1/admin/flows?orgId=${orgId}&type=${type}`)).body.data as {
    id: string;
    state: string;
    currentStep: string | null;
  }[];

/** The organization's dunning flow once it waits at `step`. */
async function dunningAt(admin: ControlPlaneClient, orgId: string, step: string) {
  return eventually(`the dunning flow waiting at ${step}`, async () => {
    const [flow] = await flowsOf(admin, orgId, 'dunning');
    return flow?.state === 'waiting' && flow.currentStep === step ? flow : undefined;
  });
}

interface Billed {
  stripe: Stripe;
  clock: Stripe.TestHelpers.TestClock;
  customerId: string;
  subscription: Stripe.Subscription;
  invoice: Stripe.Invoice;
}

/**
 * Billing started on the pro plan with a card that expires at the end of January 2031 (on a test
 * clock at 15 January), then the clock moved past the February renewal, which fails.
 */
async function billThenExpire(tenant: Tenant, admin: ControlPlaneClient, stripeSim: Sim): Promise<Billed> {
  const stripe = stripeOf(stripeSim);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: startOfClock / 1000 });
  // as Stripe.js would in the customer's browser: the card becomes a payment method id
  const card = await stripe.paymentMethods.create({
    type: 'card',
    card: { number: '4242424242424242', exp_month: 1, exp_year: 2031, cvc: '123' },
  });
  const started = await tenant.client.post(tenant.path('/billing/subscription'), {
    plan: 'pro',
    paymentMethod: card.id,
    testClock: clock.id,
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  expect((await finishedFlow(admin, started.body.flowId)).state).toBe('succeeded');
  const customers = await stripe.customers.list({ test_clock: clock.id });
  const customer = customers.data[0]!;
  expect(customer.metadata.orgId).toBe(tenant.orgId);
  const [subscription] = (await stripe.subscriptions.list({ customer: customer.id })).data;
  expect(subscription).toMatchObject({ status: 'active' });
  expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
    plan: 'pro',
    status: 'active',
  });

  await stripe.testHelpers.testClocks.advance(clock.id, {
    frozen_time: (startOfClock + 32 * day) / 1000,
  });
  const failed = (await stripe.invoices.list({ customer: customer.id, status: 'open' })).data;
  expect(failed).toHaveLength(1);
  const invoice = failed[0]!;
  expect(invoice.billing_reason).toBe('subscription_cycle');
  const intent = await stripe.paymentIntents.retrieve(
    (invoice as unknown as { payment_intent: string }).payment_intent,
  );
  expect(intent.last_payment_error?.code).toBe('expired_card');
  // the renewal moved the period on, unpaid: the customer now owes 15 February to 15 March
  const renewed = await stripe.subscriptions.retrieve(subscription!.id);
  expect(renewed.status).toBe('past_due');
  return { stripe, clock, customerId: customer.id, subscription: renewed, invoice };
}

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

describe('card expired (dunning)', () => {
  test('only billing contacts are told, the CRM gets a task, the data plane is suspended then resumed, and the lapsed time is not charged', async ({
    env,
    tenant,
    admin,
    stripe: stripeSim,
    salesforce,
    notify,
    fleet,
    traces,
  }) => {
    const billing = await addMember(env, tenant, 'billing', 'billing');
    const adminUser = await addMember(env, tenant, 'admin', 'admin');
    const member = await addMember(env, tenant, 'member', 'member');
    const created = await tenant.client.post(tenant.path('/resources'), {
      kind: 'database',
      name: 'orders',
      spec,
      cell: 'cell-1',
    });
    expect(created.status).toBe(202);
    const resourceId = created.body.resource.id as string;
    const resource = () => tenant.client.get(tenant.path(`/resources/${resourceId}`)).then((a) => a.body);
    await eventually('ready', async () => (await resource()).phase === 'ready');
    const agent = agentOf(fleet.agents, 'cell-1');

    const { stripe, clock, customerId, subscription, invoice } = await billThenExpire(
      tenant,
      admin,
      stripeSim,
    );
    const flow = await dunningAt(admin, tenant.orgId, 'grace-period');
    expect((await tenant.client.get(tenant.path('/billing'))).body.status).toBe('past_due');

    // the owner and the billing admin, once each; the admin and the member never
    for (const to of [tenant.email, billing.email]) {
      const mails = await mailbox(notify, to, '5s');
      expect(mails, to).toHaveLength(1);
      expect(mails[0]!.subject).toContain('payment failed');
      expect(mails[0]!.links).toContain(`https://app.planewright.test/orgs/${tenant.orgId}/billing`);
    }
    expect(await mailbox(notify, adminUser.email)).toHaveLength(0);
    expect(await mailbox(notify, member.email)).toHaveLength(0);

    // one Task, for the owner of the organization's Account
    const [account] = (await salesforceRecords(salesforce, 'Account')).filter(
      (a) => a.External_Id__c === `org:${tenant.orgId}`,
    );
    const tasks = (await salesforceRecords(salesforce, 'Task')).filter(
      (t) => t.External_Id__c === `dunning:${invoice.id}`,
    );
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ WhatId: account!.Id, OwnerId: account!.OwnerId, Status: 'Not Started' });

    // nothing is suspended during the grace period; past it, the agent runs the resource suspended
    expect(agent.get(resourceId)?.desired.phase).toBe('active');
    const before = await resource();
    expect((await admin.post('/v1/admin/clock', { advanceMs: defaultGraceMs + 60_000 })).status).toBe(200);
    await eventually(
      'the agent runs it suspended',
      () => agent.get(resourceId)?.desired.phase === 'suspended',
    );
    await dunningAt(admin, tenant.orgId, 'await-payment');
    const suspended = await resource();
    expect(suspended).toMatchObject({ phase: 'suspended', spec: before.spec, generation: before.generation });
    // the agent reported it runs it suspended, and the flow waited for that word
    expect(suspended.status).toMatchObject({ phase: 'suspended' });
    expect((await admin.get(`/v1/admin/flows/${flow.id}`)).body.context.suspensionConfirmed).toBe(true);
    expect(agent.get(resourceId)?.spec).toEqual(spec);
    expect((await tenant.client.get(tenant.path('/billing'))).body.status).toBe('suspended');

    // three days suspended, then a new card pays the invoice
    const lapsedMs = 3 * day;
    await admin.post('/v1/admin/clock', { advanceMs: lapsedMs });
    const newCard = await tenant.client.as(billing.token).post(tenant.path('/billing/payment-method'), {
      paymentMethod: 'pm_card_mastercard',
    });
    expect(newCard.status, JSON.stringify(newCard.body)).toBe(202);
    expect((await finishedFlow(admin, newCard.body.flowId)).state).toBe('succeeded');
    expect((await stripe.invoices.retrieve(invoice.id!)).status).toBe('paid');
    const done = await finishedFlow(admin, flow.id);
    expect(done.state).toBe('succeeded');
    // the webhook that started the flow and every step of it are one trace
    const steps = await traces.store.waitFor({
      flowId: flow.id,
      names: [
        'flow dunning past-due',
        'flow dunning suspend',
        'flow dunning resume',
        'flow dunning apply-credit',
      ],
    });
    const traceIds = new Set(steps.map((span) => span.traceId));
    expect(traceIds.size).toBe(1);
    const trace = traces.store.trace([...traceIds][0]!);
    expect(trace.some((span) => span.name === 'POST /v1/webhooks/stripe')).toBe(true);
    await eventually('the agent runs it again', () => agent.get(resourceId)?.desired.phase === 'active');
    await eventually('ready again', async () => (await resource()).phase === 'ready');
    expect(await resource()).toMatchObject({ spec: before.spec, generation: before.generation });
    expect((await tenant.client.get(tenant.path('/billing'))).body.status).toBe('active');

    // the suspended time is added to the paid period, free
    const paidPeriodEnd = (subscription as unknown as { current_period_end: number }).current_period_end;
    expect(paidPeriodEnd).toBe(Date.parse('2031-03-15T00:00:00Z') / 1000);
    const after = await stripe.subscriptions.retrieve(subscription.id);
    const lapsedSeconds = Number(after.metadata.lapsedCreditSeconds);
    expect(lapsedSeconds).toBeGreaterThanOrEqual(lapsedMs / 1000);
    expect(lapsedSeconds).toBeLessThan(lapsedMs / 1000 + 120);
    expect(after.trial_end).toBe(paidPeriodEnd + lapsedSeconds);
    // past the old end of the period, nothing new is charged
    const charged = async () =>
      (await stripe.invoices.list({ customer: customerId, limit: 100 })).data.filter((i) => i.amount_due > 0)
        .length;
    const chargedBefore = await charged();
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: paidPeriodEnd + day / 1000 });
    expect(await charged()).toBe(chargedBefore);

    // the CRM task is closed; still one
    const closed = (await salesforceRecords(salesforce, 'Task')).filter(
      (t) => t.External_Id__c === `dunning:${invoice.id}`,
    );
    expect(closed).toHaveLength(1);
    expect(closed[0]!.Status).toBe('Completed');
    expect(await mailbox(notify, member.email)).toHaveLength(0);
  });

  test('paid within the grace period: nothing is suspended, nothing credited', async ({
    tenant,
    admin,
    stripe: stripeSim,
    salesforce,
    fleet,
  }) => {
    const created = await tenant.client.post(tenant.path('/resources'), {
      kind: 'database',
      name: 'kept',
      spec,
      cell: 'cell-1',
    });
    const resourceId = created.body.resource.id as string;
    await eventually(
      'ready',
      async () => (await tenant.client.get(tenant.path(`/resources/${resourceId}`))).body.phase === 'ready',
    );
    const { stripe, subscription, invoice } = await billThenExpire(tenant, admin, stripeSim);
    const flow = await dunningAt(admin, tenant.orgId, 'grace-period');
    await admin.post('/v1/admin/clock', { advanceMs: day });
    const newCard = await tenant.client.post(tenant.path('/billing/payment-method'), {
      paymentMethod: 'pm_card_visa',
    });
    expect((await finishedFlow(admin, newCard.body.flowId)).state).toBe('succeeded');
    const done = await finishedFlow(admin, flow.id);
    expect(done.state).toBe('succeeded');
    expect(done.context).toMatchObject({ paidBeforeSuspension: true });
    expect(agentOf(fleet.agents, 'cell-1').get(resourceId)?.desired.phase).toBe('active');
    const audit = await tenant.client.get(tenant.path('/audit-log?action=billing.suspended'));
    expect(audit.body.data).toHaveLength(0);
    const after = await stripe.subscriptions.retrieve(subscription.id);
    expect(after.status).toBe('active');
    expect(after.trial_end).toBeNull();
    expect(after.metadata.lapsedCreditSeconds).toBeUndefined();
    expect((await tenant.client.get(tenant.path('/billing'))).body.status).toBe('active');
    const [task] = (await salesforceRecords(salesforce, 'Task')).filter(
      (t) => t.External_Id__c === `dunning:${invoice.id}`,
    );
    expect(task!.Status).toBe('Completed');
  });

  test('a webhook delivered twice starts one flow', async ({ tenant, admin, stripe: stripeSim }) => {
    const settings = await fetch(`${stripeSim.url}/_sim/webhooks/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicate: 1, types: ['invoice.payment_failed'] }),
    });
    expect(settings.status).toBe(201);
    try {
      const { invoice } = await billThenExpire(tenant, admin, stripeSim);
      await dunningAt(admin, tenant.orgId, 'grace-period');
      const attempts = async () =>
        (
          (await (await fetch(`${stripeSim.url}/_sim/webhooks`)).json()) as {
            attempts: { eventType: string; duplicate: boolean; ok: boolean; eventId: string }[];
          }
        ).attempts.filter((a) => a.eventType === 'invoice.payment_failed' && a.ok);
      const events = (
        await stripeOf(stripeSim).events.list({ type: 'invoice.payment_failed', limit: 100 })
      ).data.filter((e) => (e.data.object as { id: string }).id === invoice.id);
      expect(events).toHaveLength(1);
      const delivered = await eventually('delivered twice', async () => {
        const mine = (await attempts()).filter((a) => a.eventId === events[0]!.id);
        return mine.length >= 2 ? mine : undefined;
      });
      expect(delivered.some((a) => a.duplicate)).toBe(true);
      expect(await flowsOf(admin, tenant.orgId, 'dunning')).toHaveLength(1);
    } finally {
      await fetch(`${stripeSim.url}/_sim/webhooks/faults`, { method: 'DELETE' });
    }
  });

  test('Salesforce throttles: the task is retried with backoff and made once', async ({
    tenant,
    admin,
    stripe: stripeSim,
    salesforce,
    faults,
  }) => {
    await faults.apply({
      faults: [
        {
          component: 'salesforce',
          rule: {
            match: { path: '/services/data/*/sobjects/Task/**' },
            fault: { kind: 'throttle', retryAfterS: 1 },
            count: 2,
          },
        },
      ],
    });
    const { invoice } = await billThenExpire(tenant, admin, stripeSim);
    const flow = await dunningAt(admin, tenant.orgId, 'grace-period');
    const detail = (await admin.get(`/v1/admin/flows/${flow.id}`)).body as {
      steps: { step: string; outcome: string; error: string | null }[];
    };
    const taskAttempts = detail.steps.filter((s) => s.step === 'crm-task');
    expect(taskAttempts.map((s) => s.outcome)).toEqual(['failed', 'failed', 'succeeded']);
    expect(taskAttempts[0]!.error).toContain('REQUEST_LIMIT_EXCEEDED');
    const tasks = (await salesforceRecords(salesforce, 'Task')).filter(
      (t) => t.External_Id__c === `dunning:${invoice.id}`,
    );
    expect(tasks).toHaveLength(1);
    const throttled = faults.journal();
    expect(JSON.stringify(throttled)).toContain('throttle');
  });

  test('the email provider is down: the email goes out once it is back, exactly once', async ({
    env,
    tenant,
    admin,
    stripe: stripeSim,
    notify,
    faults,
  }) => {
    const billing = await addMember(env, tenant, 'billing', 'billing');
    await faults.apply({
      faults: [
        {
          component: 'notify',
          rule: { match: { path: '/v3/mail/send' }, fault: { kind: 'outage', forMs: 2_000 } },
        },
      ],
    });
    const outageStarted = Date.now();
    await billThenExpire(tenant, admin, stripeSim);
    const flow = await dunningAt(admin, tenant.orgId, 'grace-period');
    const detail = (await admin.get(`/v1/admin/flows/${flow.id}`)).body as {
      steps: { step: string; outcome: string }[];
    };
    const sends = detail.steps.filter((s) => s.step === 'notify-billing-contacts');
    // SendGrid said "not now" (503 with Retry-After): the step waited, it did not fail
    expect(sends.some((s) => s.outcome === 'waiting')).toBe(true);
    expect(JSON.stringify(faults.journal())).toContain('outage');
    expect(sends.at(-1)!.outcome).toBe('succeeded');
    expect(Date.now() - outageStarted).toBeGreaterThanOrEqual(2_000);
    for (const to of [tenant.email, billing.email])
      expect(await mailbox(notify, to, '5s'), to).toHaveLength(1);
  });

  test('bad input starts nothing', async ({ env, tenant, admin }) => {
    const member = await addMember(env, tenant, 'member', 'member');
    const path = tenant.path('/billing/subscription');
    const bad = [
      await tenant.client.post(path, { plan: 'platinum', paymentMethod: 'pm_card_visa' }),
      await tenant.client.post(path, { plan: 'pro', paymentMethod: '4242424242424242' }),
      await tenant.client.post(path, { plan: 'pro', paymentMethod: 'pm_card_visa', extra: true }),
      await tenant.client.post(tenant.path('/billing/payment-method'), { paymentMethod: 'pm_card_visa' }),
      await tenant.client.put(tenant.path('/billing/plan'), { plan: 'pro' }),
      await tenant.client.as(member.token).post(path, { plan: 'pro', paymentMethod: 'pm_card_visa' }),
    ];
    expect(bad.map((answer) => answer.status)).toEqual([400, 400, 400, 409, 409, 403]);
    for (const answer of bad) expect(answer.body.error.message).toBeTruthy();
    const flows = (await admin.get(`/v1/admin/flows?orgId=${tenant.orgId}`)).body.data;
    expect(flows).toHaveLength(0);
    expect((await tenant.client.get(tenant.path('/billing'))).body).toMatchObject({
      plan: 'trial',
      status: 'trialing',
    });
  });
});
