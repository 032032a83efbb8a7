import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
// a control plane with Stripe configured whose flows never run (no worker), so a flow a request
// started is still under way when the next request comes, however loaded the machine is
let billed: TestControlPlane;
beforeAll(async () => {
  [cp, billed] = await Promise.all([
    startTestControlPlane(),
    startTestControlPlane({
      STRIPE_SECRET_KEY: 'sk_test_unreachable',
      STRIPE_API_URL: 'http://127.0.0.1:9',
      FLOW_WORKER_ENABLED: 'false',
    }),
  ]);
});
afterAll(() => Promise.all([cp?.close(), billed?.close()]));

async function addMember(on: TestControlPlane, orgId: string, role: string) {
  const user = await on.newUser(role);
  await user.client.get('/v1/users/me');
  await on.deps.db.query(
    `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, $3 FROM users WHERE subject = $2`,
    [orgId, user.sub, role],
  );
  return user;
}

const flowsOf = async (on: TestControlPlane, orgId: string) =>
  (await on.deps.db.query('SELECT type, state FROM flows WHERE org_id = $1', [orgId])).rows;

describe('billing account', () => {
  it('shows a new organization on a 14-day trial, to any member', async () => {
    const owner = await cp.newOrg('payer');
    const viewer = await cp.newUser('viewer');
    await viewer.client.get('/v1/orgs');
    await cp.deps.db.query(
      `INSERT INTO memberships (org_id, user_id, role) SELECT $1, id, 'member' FROM users WHERE subject = $2`,
      [owner.orgId, viewer.sub],
    );
    const byOwner = await owner.client.get(`/v1/orgs/${owner.orgId}/billing`);
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual({
      plan: 'trial',
      status: 'trialing',
      trialEndsAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const daysLeft = (Date.parse(byOwner.body.trialEndsAt) - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(13.9);
    expect(daysLeft).toBeLessThanOrEqual(14);
    expect((await viewer.client.get(`/v1/orgs/${owner.orgId}/billing`)).body).toEqual(byOwner.body);
  });

  it('reflects the account as the billing flows leave it', async () => {
    const owner = await cp.newOrg('lapsed');
    await cp.deps.db.query(
      `UPDATE billing_accounts SET plan = 'pro', status = 'past_due', trial_ends_at = NULL WHERE org_id = $1`,
      [owner.orgId],
    );
    const account = await owner.client.get(`/v1/orgs/${owner.orgId}/billing`);
    expect(account.body).toMatchObject({ plan: 'pro', status: 'past_due', trialEndsAt: null });
  });

  it('answers 404 to another tenant, 401 without a token and 400 for a bad id; offers no write', async () => {
    const owner = await cp.newOrg('private');
    const stranger = await cp.newOrg('stranger');
    expect((await stranger.client.get(`/v1/orgs/${owner.orgId}/billing`)).status).toBe(404);
    expect((await cp.anonymous.get(`/v1/orgs/${owner.orgId}/billing`)).status).toBe(401);
    expect((await owner.client.get('/v1/orgs/nope/billing')).status).toBe(400);
    // plan and status change only through the billing flows
    expect((await owner.client.patch(`/v1/orgs/${owner.orgId}/billing`, { plan: 'enterprise' })).status).toBe(
      404,
    );
    const doc = await cp.anonymous.get('/openapi.json');
    expect(Object.keys(doc.body.paths['/v1/orgs/{orgId}/billing'])).toEqual(['get']);
  });
});

describe('billing changes', () => {
  const card = { plan: 'pro', paymentMethod: 'pm_card_visa' };

  it('refuses bad bodies with 400 naming the field, and starts nothing', async () => {
    const owner = await billed.newOrg('bad-input');
    const path = `/v1/orgs/${owner.orgId}/billing`;
    const answers = [
      await owner.client.post(`${path}/subscription`, { ...card, plan: 'gold' }),
      await owner.client.post(`${path}/subscription`, { ...card, paymentMethod: '4242 4242 4242 4242' }),
      await owner.client.post(`${path}/subscription`, { plan: 'pro' }),
      await owner.client.post(`${path}/subscription`, { ...card, coupon: 'FREE' }),
      await owner.client.put(`${path}/plan`, { plan: 'trial' }),
      await owner.client.post(`${path}/payment-method`, { paymentMethod: 'card_123' }),
    ];
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
    }
    expect(answers[1]!.body.error.message).toContain('paymentMethod');
    expect(await flowsOf(billed, owner.orgId)).toEqual([]);
  });

  it('lets only owners and billing admins change billing', async () => {
    const owner = await billed.newOrg('roles');
    for (const role of ['admin', 'member']) {
      const user = await addMember(billed, owner.orgId, role);
      const answer = await user.client.post(`/v1/orgs/${owner.orgId}/billing/subscription`, card);
      expect(answer.status).toBe(403);
      expect(answer.body.error.message).toContain('owner, billing');
    }
    const stranger = await billed.newOrg('stranger');
    expect((await stranger.client.post(`/v1/orgs/${owner.orgId}/billing/subscription`, card)).status).toBe(
      404,
    );
    const billing = await addMember(billed, owner.orgId, 'billing');
    expect((await billing.client.post(`/v1/orgs/${owner.orgId}/billing/subscription`, card)).status).toBe(
      202,
    );
  });

  it('answers 409 to a change that contradicts the account, and starts nothing more', async () => {
    const owner = await billed.newOrg('contradictions');
    const path = `/v1/orgs/${owner.orgId}/billing`;
    expect((await owner.client.put(`${path}/plan`, { plan: 'pro' })).status).toBe(409);
    expect(
      (await owner.client.post(`${path}/payment-method`, { paymentMethod: 'pm_card_visa' })).status,
    ).toBe(409);
    expect((await owner.client.post(`${path}/subscription`, card)).status).toBe(202);
    const twice = await owner.client.post(`${path}/subscription`, card);
    expect(twice.status).toBe(409);
    expect(twice.body.error.details.flowId).toEqual(expect.any(String));
    expect(await flowsOf(billed, owner.orgId)).toHaveLength(1);

    // as the billing flows leave an account: subscribed, then past due
    await billed.deps.db.query("UPDATE flows SET state = 'failed' WHERE org_id = $1", [owner.orgId]);
    await billed.deps.db.query(
      `UPDATE billing_accounts SET plan = 'pro', status = 'active', stripe_subscription_id = 'sub_1', external_customer_id = 'cus_1'
        WHERE org_id = $1`,
      [owner.orgId],
    );
    expect((await owner.client.post(`${path}/subscription`, card)).status).toBe(409);
    const same = await owner.client.put(`${path}/plan`, { plan: 'pro' });
    expect(same.status).toBe(409);
    expect(same.body.error.message).toContain('already on the pro plan');
    await billed.deps.db.query(`UPDATE billing_accounts SET status = 'past_due' WHERE org_id = $1`, [
      owner.orgId,
    ]);
    const pastDue = await owner.client.put(`${path}/plan`, { plan: 'enterprise' });
    expect(pastDue.status).toBe(409);
    expect(pastDue.body.error.message).toContain('update the payment method first');
    expect(await flowsOf(billed, owner.orgId)).toHaveLength(1);
  });

  it('takes a test clock in test mode only, and answers 503 while Stripe is not configured', async () => {
    const owner = await cp.newOrg('unbilled');
    const answer = await owner.client.post(`/v1/orgs/${owner.orgId}/billing/subscription`, card);
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('billing_unavailable');
    expect(await flowsOf(cp, owner.orgId)).toEqual([]);
    const doc = (await cp.anonymous.get('/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/orgs/{orgId}/billing/plan'])).toEqual(['put']);
    expect(doc.components.schemas.StartBilling.properties.testClock).toBeDefined();
  });
});
