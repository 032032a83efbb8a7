// The billing account as the billing flows read it: plan, status and the vendors' ids. Tenant
// deletion reads the same row for the subscription to cancel and the CRM account to update.
import type { Queryable } from '../db/pool.ts';
import { PermanentStepError } from '../flows/definition.ts';
import type { Plan } from './plans.ts';

export type BillingStatus = 'trialing' | 'active' | 'past_due' | 'suspended';

export interface BillingAccount {
  orgId: string;
  orgName: string;
  plan: Plan;
  status: BillingStatus;
  trialEndsAt: Date | null;
  /** Stripe customer (`cus_…`). */
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  stripePriceId: string | null;
  salesforceAccountId: string | null;
  salesforceOpportunityId: string | null;
}

export async function readBillingAccount(db: Queryable, orgId: string): Promise<BillingAccount | undefined> {
  const { rows } = await db.query<{
    org_id: string;
    name: string;
    plan: Plan;
    status: BillingStatus;
    trial_ends_at: Date | null;
    external_customer_id: string | null;
    stripe_subscription_id: string | null;
    stripe_price_id: string | null;
    salesforce_account_id: string | null;
    salesforce_opportunity_id: string | null;
  }>(
    `SELECT b.org_id, o.name, b.plan, b.status, b.trial_ends_at, b.external_customer_id, b.stripe_subscription_id,
            b.stripe_price_id, b.salesforce_account_id, b.salesforce_opportunity_id
       FROM billing_accounts b JOIN organizations o ON o.id = b.org_id WHERE b.org_id = $1`,
    [orgId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    orgId: row.org_id,
    orgName: row.name,
    plan: row.plan,
    status: row.status,
    trialEndsAt: row.trial_ends_at,
    stripeCustomerId: row.external_customer_id,
    stripeSubscriptionId: row.stripe_subscription_id,
    stripePriceId: row.stripe_price_id,
    salesforceAccountId: row.salesforce_account_id,
    salesforceOpportunityId: row.salesforce_opportunity_id,
  };
}

/** The account, or a permanent failure: its organization was deleted under the flow. */
export async function loadBillingAccount(db: Queryable, orgId: string): Promise<BillingAccount> {
  const account = await readBillingAccount(db, orgId);
  if (!account) throw new PermanentStepError(`organization ${orgId} has no billing account (deleted?)`);
  return account;
}

/** The organization's first owner's email, for the payment provider's customer and the CRM. */
export async function ownerEmail(db: Queryable, orgId: string): Promise<string | null> {
  const { rows } = await db.query<{ email: string }>(
    `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1 AND m.role = 'owner' AND u.deleted_at IS NULL AND u.email IS NOT NULL
      ORDER BY m.created_at, u.id LIMIT 1`,
    [orgId],
  );
  return rows[0]?.email ?? null;
}

/**
 * Turns a refusal by Stripe (a declined card, an unknown payment method: a 4xx other than 429)
 * into a permanent failure with Stripe's message; anything else (5xx, 429, network) is retried.
 */
export function refusedByStripe(error: unknown): never {
  const e = error as { type?: string; statusCode?: number; message?: string; code?: string };
  const status = e.statusCode ?? 0;
  if (e.type === 'StripeCardError' || (status >= 400 && status < 500 && status !== 429 && status !== 409))
    throw new PermanentStepError(`Stripe refused it${e.code ? ` (${e.code})` : ''}: ${e.message}`);
  throw error;
}
