import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

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
