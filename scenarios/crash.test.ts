// Crash in the middle (issue 7, item 10): many flows of several kinds run at once against the
// simulators and the fleet while the control plane's child process is SIGKILLed at seeded random
// moments and restarted. Every flow must complete, and no side effect may happen twice, counted
// where it happened: emails and SMS in the notify simulator, subscription cancellations in
// Stripe's events, records in Salesforce, users and invitations at the auth provider, resources in
// the agents' local data planes, and audit entries in the database.
import jsforce from 'jsforce';
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, describe, expect } from 'vitest';
import { eventually, runSeed, scenario } from '../harness/fixtures.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';

const test = scenario({
  fleet: { agentsPerCell: 1, agent: { waitMs: 1_000, heartbeatMs: 500, backoffCapMs: 300 } },
  controlPlane: {
    env: {
      // a killed process's leases expire fast, so the restarted one takes its flows over at once
      FLOW_LEASE_MS: '800',
      FLOW_SWEEP_MS: '100',
      FLOW_RETRY_BASE_MS: '50',
      FLOW_RETRY_MAX_MS: '500',
      AGENT_RATE_LIMIT_PER_SEC: '200',
      AGENT_RATE_LIMIT_BURST: '200',
      AUTH_APP_CLIENT_ID: 'pw_sim_app',
    },
  },
});

const kills = 3;
const retentionMs = 30 * 86_400_000;
const spec = { engine: 'postgres', version: '16', storageGb: 10 };

let pool: pg.Pool | undefined;
afterAll(() => pool?.end());

/** mulberry32: the kill moments come from the run's seed, so a failing run names them again. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const agentOf = (agents: readonly FleetAgent[], cell: string) =>
  agents.find((agent) => agent.identity?.cell === cell)!;

async function messagesTo(notifyUrl: string, to: string, channel: 'email' | 'sms') {
  const query = new URLSearchParams({ to, status: 'any', channel, wait: '0' });
  const answer = await fetch(`${notifyUrl}/_sim/messages?${query}`);
  return ((await answer.json()) as { messages: unknown[] }).messages;
}

/** SIGKILLs the control plane `kills` times at seeded moments and restarts it; returns the moments. */
async function killAndRestart(
  cp: { kill(signal: NodeJS.Signals): Promise<{ signal: NodeJS.Signals | null }>; restart(): Promise<void> },
  random: () => number,
): Promise<number[]> {
  const moments: number[] = [];
  for (let kill = 0; kill < kills; kill++) {
    const delayMs = Math.round(10 + random() * 190);
    moments.push(delayMs);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    expect((await cp.kill('SIGKILL')).signal).toBe('SIGKILL');
    await cp.restart();
  }
  return moments;
}

/** Messages sent more than once (or never), each with the attempts of the flows' steps. */
async function duplicatesIn(
  notifyUrl: string,
  sent: { to: string; channel: 'email' | 'sms' }[],
  db: pg.Pool,
  flowIds: string[],
): Promise<string[]> {
  const found: string[] = [];
  for (const { to, channel } of sent) {
    const count = (await messagesTo(notifyUrl, to, channel)).length;
    if (count === 1) continue;
    const { rows } = await db.query(
      `SELECT step, outcome, count(*)::int AS n FROM flow_steps WHERE flow_id = ANY($1) GROUP BY step, outcome`,
      [flowIds],
    );
    found.push(`${count} × ${channel} to ${to}; step attempts ${JSON.stringify(rows)}`);
  }
  return found;
}

describe('crash in the middle', () => {
  test('flows of every kind survive seeded SIGKILLs, and no effect happens twice', async ({
    env,
    tenant,
    admin,
    fleet,
    stripe,
    salesforce,
    auth,
    notify,
  }) => {
    const seed = runSeed() ?? 20261125;
    const random = seeded(seed);
    pool ??= new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
    const db = pool;
    const { hostname, port } = new URL(stripe.url);
    const payments = new Stripe('sk_test_planewright_scenario', {
      host: hostname,
      port: Number(port),
      protocol: 'http',
    });
    const crm = new jsforce.Connection({
      loginUrl: salesforce.url,
      version: '62.0',
      oauth2: {
        loginUrl: salesforce.url,
        clientId: 'planewright-client',
        clientSecret: 'planewright-secret',
      },
    });
    await crm.login('admin@planewright.test', 'planewright');
    const price = await payments.prices.create({
      currency: 'usd',
      unit_amount: 2_900,
      recurring: { interval: 'month' },
      product_data: { name: 'Starter' },
    });

    // --- before the storm: the users, organizations and vendor records the flows will act on
    const known = async (name: string) => {
      const user = await env.newUser(name);
      const me = await tenant.client.as(user.token).get('/v1/users/me');
      return { ...user, userId: me.body.id as string, client: tenant.client.as(user.token) };
    };
    const leaving = await Promise.all([0, 1, 2].map((i) => known(`leaving${i}`)));
    for (const user of leaving)
      await db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'member')`, [
        tenant.orgId,
        user.userId,
      ]);
    const doomed = await Promise.all(
      [0, 1].map(async (i) => {
        const owner = await known(`doomed${i}`);
        const org = await owner.client.post('/v1/orgs', { name: `Doomed ${i}`, slug: `doomed-${seed}-${i}` });
        const orgId = org.body.id as string;
        const customer = await payments.customers.create({
          email: owner.email,
          payment_method: 'pm_card_visa',
          invoice_settings: { default_payment_method: 'pm_card_visa' },
        });
        const subscription = await payments.subscriptions.create({
          customer: customer.id,
          items: [{ price: price.id }],
        });
        const account = await crm
          .sobject('Account')
          .create({ Name: `Doomed ${i}`, Type: 'Customer - Direct' });
        await db.query(
          `UPDATE billing_accounts SET external_customer_id = $2, stripe_subscription_id = $3, salesforce_account_id = $4
            WHERE org_id = $1`,
          [orgId, customer.id, subscription.id, account.id],
        );
        const resource = await owner.client.post(`/v1/orgs/${orgId}/resources`, {
          kind: 'database',
          name: 'main',
          spec,
          cell: i === 0 ? 'cell-1' : 'cell-2',
        });
        return {
          owner,
          orgId,
          subscriptionId: subscription.id,
          accountId: account.id!,
          resourceId: resource.body.resource.id,
        };
      }),
    );
    await eventually('the doomed resources ready', async () => {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM resources WHERE id = ANY($1) AND phase = 'ready'`,
        [doomed.map((d) => d.resourceId)],
      );
      return rows[0].n === doomed.length;
    });
    const billed = await Promise.all(
      [0, 1].map(async (i) => {
        const owner = await known(`billed${i}`);
        const org = await owner.client.post('/v1/orgs', { name: `Billed ${i}`, slug: `billed-${seed}-${i}` });
        return { owner, orgId: org.body.id as string };
      }),
    );
    const recordsBefore = (await crm.query('SELECT Id FROM Account')).totalSize;
    // vendor calls take a while, so kills land between a call and the commit that records it
    for (const sim of [stripe, salesforce, auth])
      sim.faults.add({ id: 'crash-latency', fault: { kind: 'latency', uniform: { minMs: 20, maxMs: 120 } } });

    // --- the storm: every flow starts at once, the control plane is killed while they run
    const flowIds: Record<string, string[]> = {};
    const started = (type: string, id: string) => {
      flowIds[type] = [...(flowIds[type] ?? []), id];
    };
    const invitees = [0, 1, 2].map((i) => `invitee-${seed}-${i}@example.test`);
    const resources = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        tenant.client.post(tenant.path('/resources'), {
          kind: 'database',
          name: `crash-${i}`,
          spec,
          cell: i % 2 ? 'cell-2' : 'cell-1',
        }),
      ),
    );
    for (const answer of resources) started('provision-resource', answer.body.flowId);
    const keys = await Promise.all(
      [0, 1, 2].map((i) =>
        tenant.client.post(tenant.path('/api-keys'), { name: `crash-${i}`, role: 'member' }),
      ),
    );
    for (const answer of keys) started('create-api-key', answer.body.flowId);
    const invitations = await Promise.all(
      invitees.map((email) => tenant.client.post(tenant.path('/invitations'), { email, role: 'member' })),
    );
    for (const answer of invitations) started('invite-user', answer.body.flowId);
    for (const user of leaving)
      started('delete-user', (await user.client.delete('/v1/users/me')).body.flowId);
    for (const b of billed) {
      const setup = await b.owner.client.post(`/v1/orgs/${b.orgId}/billing/subscription`, {
        plan: 'starter',
        paymentMethod: 'pm_card_visa',
      });
      expect(setup.status).toBe(202);
      started('billing-setup', setup.body.flowId);
    }
    for (const d of doomed)
      started('delete-tenant', (await d.owner.client.delete(`/v1/orgs/${d.orgId}`)).body.flowId);
    const moments = await killAndRestart(env.controlPlane!, random);
    const all = Object.values(flowIds).flat();
    const why = `seed ${seed}, kills after ${moments.join(', ')} ms`;

    // --- every flow completes (the tenant deletions wait for their retention period, then purge)
    await eventually(
      `the deletions to wait for their retention (${why})`,
      async () => {
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM flows WHERE id = ANY($1) AND state = 'waiting' AND current_step = 'await-retention'`,
          [flowIds['delete-tenant']],
        );
        return rows[0].n === doomed.length;
      },
      30_000,
    );
    expect((await admin.post('/v1/admin/clock', { advanceMs: retentionMs + 60_000 })).status).toBe(200);
    const states = await eventually(
      `every flow finished (${why})`,
      async () => {
        const { rows } = await db.query<{ type: string; state: string; n: number }>(
          `SELECT type, state, count(*)::int AS n FROM flows WHERE id = ANY($1) GROUP BY type, state ORDER BY type, state`,
          [all],
        );
        return rows.every((row) => ['succeeded', 'failed', 'cancelled'].includes(row.state)) && rows;
      },
      30_000,
    );
    expect(states).toEqual(
      Object.entries(flowIds)
        .map(([type, ids]) => ({ type, state: 'succeeded', n: ids.length }))
        .sort((a, b) => a.type.localeCompare(b.type)),
    );
    // the kills landed inside steps, or this test proves nothing
    const abandoned = await db.query(
      `SELECT count(*)::int AS n FROM flow_steps WHERE flow_id = ANY($1) AND outcome = 'abandoned'`,
      [all],
    );
    expect(abandoned.rows[0].n, why).toBeGreaterThan(0);

    // --- no side effect twice, counted where it happened
    const audited = async (action: string, targets: string[]) => {
      const { rows } = await db.query<{ target_id: string; n: number }>(
        `SELECT target_id, count(*)::int AS n FROM audit_log WHERE action = $1 AND target_id = ANY($2) GROUP BY target_id`,
        [action, targets],
      );
      return Object.fromEntries(rows.map((row) => [row.target_id, row.n]));
    };
    const once = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, 1]));
    // provision: each resource ready once, in its agent's local data plane
    const resourceIds = resources.map((answer) => answer.body.resource.id as string);
    expect(await audited('resource.ready', resourceIds)).toEqual(once(resourceIds));
    for (const [i, id] of resourceIds.entries())
      expect(agentOf(fleet.agents, i % 2 ? 'cell-2' : 'cell-1').get(id)?.generation).toBe(1);
    // API keys: each active once, and it works
    const keyIds = keys.map((answer) => answer.body.id as string);
    expect(await audited('api_key.created', keyIds)).toEqual(once(keyIds));
    for (const answer of keys)
      expect((await tenant.client.as(answer.body.key).get(tenant.path(''))).status).toBe(200);
    // invitations: one email each in the notify simulator, one invitation at the auth provider
    const sent = invitees.map((to) => ({ to, channel: 'email' as const }));
    expect(await duplicatesIn(notify.url, sent, db, flowIds['invite-user']!), why).toEqual([]);
    for (const email of invitees)
      expect([...auth.state.invitations.values()].filter((i) => i.invitee.email === email)).toHaveLength(1);
    // deleted users: gone from the auth provider, erased once
    for (const user of leaving) expect(auth.state.users.has(user.sub)).toBe(false);
    const leavingIds = leaving.map((user) => user.userId);
    expect(await audited('user.deleted', leavingIds)).toEqual(once(leavingIds));
    // deleted tenants: one cancellation each in Stripe, no new Salesforce record, nothing left
    const cancellations = await payments.events.list({ type: 'customer.subscription.deleted', limit: 100 });
    for (const d of doomed) {
      const events = cancellations.data.filter(
        (event) => (event.data.object as { id: string }).id === d.subscriptionId,
      );
      expect(events, why).toHaveLength(1);
      expect((await crm.sobject('Account').retrieve(d.accountId)).Type).toBe('Other');
      expect(auth.state.users.has(d.owner.sub)).toBe(false);
      expect(fleet.agents.some((agent) => agent.get(d.resourceId))).toBe(false);
    }
    // billing setup: one Stripe customer and one subscription, one Account and one Opportunity each
    const customers = await payments.customers.list({ limit: 100 });
    for (const b of billed) {
      const { rows } = await db.query(
        'SELECT external_customer_id, stripe_subscription_id FROM billing_accounts WHERE org_id = $1',
        [b.orgId],
      );
      const mine = customers.data.filter((customer) => customer.metadata.orgId === b.orgId);
      expect(
        mine.map((customer) => customer.id),
        why,
      ).toEqual([rows[0].external_customer_id]);
      const subscriptions = await payments.subscriptions.list({ customer: mine[0]!.id, status: 'all' });
      expect(
        subscriptions.data.map((subscription) => subscription.id),
        why,
      ).toEqual([rows[0].stripe_subscription_id]);
      const account = await crm.query(`SELECT Id FROM Account WHERE External_Id__c = 'org:${b.orgId}'`);
      const opportunity = await crm.query(
        `SELECT Id FROM Opportunity WHERE External_Id__c = 'subscription:${rows[0].stripe_subscription_id}'`,
      );
      expect([account.totalSize, opportunity.totalSize], why).toEqual([1, 1]);
    }
    // the deleted tenants' accounts were updated, not re-created: only billing setup added Accounts
    expect((await crm.query('SELECT Id FROM Account')).totalSize).toBe(recordsBefore + billed.length);
    const orgIds = doomed.map((d) => d.orgId);
    expect(await audited('organization.purged', orgIds)).toEqual(once(orgIds));
    expect(
      (await db.query('SELECT count(*)::int AS n FROM organizations WHERE id = ANY($1)', [orgIds])).rows[0].n,
    ).toBe(0);
    for (const sim of [stripe, salesforce, auth]) sim.faults.remove('crash-latency');
  });
  test('password resets send one email and one SMS each through seeded SIGKILLs', async ({
    env,
    tenant,
    auth,
    notify,
  }) => {
    const seed = (runSeed() ?? 20261125) + 1;
    pool ??= new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
    const db = pool;
    const users = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const user = await env.newUser(`reset${i}`);
        const client = tenant.client.as(user.token);
        const phone = `+1415555020${i}`;
        const me = await client.patch('/v1/users/me', { phone });
        expect(me.status).toBe(200);
        return { ...user, userId: me.body.id as string, phone };
      }),
    );
    auth.faults.add({ id: 'crash-latency', fault: { kind: 'latency', uniform: { minMs: 20, maxMs: 120 } } });
    // each reset is requested just before a kill, so every kill finds a reset in its notify step
    const random = seeded(seed);
    const moments: number[] = [];
    for (const user of users) {
      const answer = await tenant.client.as(undefined).post('/v1/password-resets', { email: user.email });
      expect(answer.status).toBe(202);
      const delayMs = Math.round(5 + random() * 80);
      moments.push(delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      expect((await env.controlPlane!.kill('SIGKILL')).signal).toBe('SIGKILL');
      await env.controlPlane!.restart();
    }
    const why = `seed ${seed}, kills after ${moments.join(', ')} ms`;
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM flows WHERE type = 'password-reset' AND context->>'userId' = ANY($1)`,
      [users.map((user) => user.userId)],
    );
    expect(rows).toHaveLength(users.length);
    const ids = rows.map((row) => row.id);
    await eventually(
      `the resets finished (${why})`,
      async () => {
        const done = await db.query(
          `SELECT count(*)::int AS n FROM flows WHERE id = ANY($1) AND state = 'succeeded'`,
          [ids],
        );
        return done.rows[0].n === ids.length;
      },
      30_000,
    );
    auth.faults.remove('crash-latency');
    const abandoned = await db.query(
      `SELECT count(*)::int AS n FROM flow_steps WHERE flow_id = ANY($1) AND outcome = 'abandoned'`,
      [ids],
    );
    expect(abandoned.rows[0].n, `the kills missed every step (${why})`).toBeGreaterThan(0);
    const sent = users.flatMap((user) => [
      { to: user.email, channel: 'email' as const },
      { to: user.phone, channel: 'sms' as const },
    ]);
    expect(await duplicatesIn(notify.url, sent, db, ids), why).toEqual([]);
  });
  test('dunning through seeded SIGKILLs: one flow, one email, one CRM task, the invoice paid once', async ({
    env,
    tenant,
    admin,
    stripe,
    salesforce,
    notify,
  }) => {
    const seed = (runSeed() ?? 20261125) + 2;
    const random = seeded(seed);
    pool ??= new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
    const db = pool;
    const { hostname, port } = new URL(stripe.url);
    const payments = new Stripe('sk_test_planewright_scenario', {
      host: hostname,
      port: Number(port),
      protocol: 'http',
    });
    // billing on a Stripe test clock, with a card that expires before the first renewal
    const startOfClock = Date.parse('2031-01-15T00:00:00Z');
    const clock = await payments.testHelpers.testClocks.create({ frozen_time: startOfClock / 1000 });
    const card = await payments.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 1, exp_year: 2031, cvc: '123' },
    });
    const setup = await tenant.client.post(tenant.path('/billing/subscription'), {
      plan: 'pro',
      paymentMethod: card.id,
      testClock: clock.id,
    });
    expect(setup.status).toBe(202);
    const flowState = async (id: string) => (await admin.get(`/v1/admin/flows/${id}`)).body;
    await eventually(
      'billing set up',
      async () => (await flowState(setup.body.flowId)).state === 'succeeded',
    );

    // kills land between a vendor call and the commit that records it
    for (const sim of [stripe, salesforce])
      sim.faults.add({ id: 'crash-latency', fault: { kind: 'latency', uniform: { minMs: 20, maxMs: 120 } } });
    const moments: number[] = [];
    const killSoon = async (maxMs: number) => {
      const delayMs = Math.round(5 + random() * maxMs);
      moments.push(delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      expect((await env.controlPlane!.kill('SIGKILL')).signal).toBe('SIGKILL');
      await env.controlPlane!.restart();
    };
    // the renewal fails; the control plane is killed as soon as its webhook has started dunning
    await payments.testHelpers.testClocks.advance(clock.id, {
      frozen_time: (startOfClock + 32 * 86_400_000) / 1000,
    });
    await eventually(
      'a dunning flow',
      async () => {
        const { rows } = await db.query(`SELECT 1 FROM flows WHERE org_id = $1 AND type = 'dunning'`, [
          tenant.orgId,
        ]);
        return rows.length > 0;
      },
      20_000,
    );
    await killSoon(60);
    const dunning = await eventually(
      'the dunning flow in its grace period',
      async () => {
        const { body } = await admin.get(`/v1/admin/flows?orgId=${tenant.orgId}&type=dunning`);
        return body.data.length > 0 &&
          body.data[0].state === 'waiting' &&
          body.data[0].currentStep === 'grace-period'
          ? body.data
          : undefined;
      },
      30_000,
    );
    // a new card pays the invoice; the control plane is killed once more meanwhile
    const paid = await tenant.client.post(tenant.path('/billing/payment-method'), {
      paymentMethod: 'pm_card_visa',
    });
    expect(paid.status).toBe(202);
    await killSoon(60);
    const why = `seed ${seed}, kills after ${moments.join(', ')} ms`;
    const ids = [setup.body.flowId, dunning[0].id, paid.body.flowId];
    await eventually(
      `dunning and the card update finished (${why})`,
      async () =>
        (await flowState(dunning[0].id)).state === 'succeeded' &&
        (await flowState(paid.body.flowId)).state === 'succeeded',
      30_000,
    );

    expect(dunning, why).toHaveLength(1);
    const abandoned = await db.query(
      `SELECT count(*)::int AS n FROM flow_steps WHERE flow_id = ANY($1) AND outcome = 'abandoned'`,
      [ids],
    );
    expect(abandoned.rows[0].n, `the kills missed every step (${why})`).toBeGreaterThan(0);
    const invoiceId = (await flowState(dunning[0].id)).context.invoiceId as string | undefined;
    const customer = (await payments.customers.list({ test_clock: clock.id })).data[0]!;
    const [invoice] = (await payments.invoices.list({ customer: customer.id, limit: 10 })).data.filter(
      (candidate) => candidate.billing_reason === 'subscription_cycle',
    );
    if (invoiceId) expect(invoice!.id).toBe(invoiceId);
    expect(invoice!.status, why).toBe('paid');
    const paidEvents = await payments.events.list({ type: 'invoice.paid', limit: 100 });
    expect(
      paidEvents.data.filter((event) => (event.data.object as { id: string }).id === invoice!.id),
      why,
    ).toHaveLength(1);
    const mails = (
      (await messagesTo(notify.url, tenant.email, 'email')) as { vendor: { categories: string[] } }[]
    ).filter((message) => message.vendor.categories.includes('billing-payment-failed'));
    expect(mails, why).toHaveLength(1);
    const state = (await (await fetch(`${salesforce.url}/_sim/state`)).json()) as {
      records: Record<string, { External_Id__c?: string; IsDeleted?: boolean; Status?: string }[]>;
    };
    const tasks = (state.records.Task ?? []).filter(
      (task) => task.External_Id__c === `dunning:${invoice!.id}` && !task.IsDeleted,
    );
    expect(
      tasks.map((task) => task.Status),
      why,
    ).toEqual(['Completed']);
  });
});
