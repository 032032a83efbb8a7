import { notFound } from '../../errors.ts';
import type { Api } from '../route.ts';
import { orgParams, z } from '../zod.ts';

const billingAccount = z
  .object({
    plan: z.enum(['trial', 'starter', 'pro', 'enterprise']),
    status: z.enum(['trialing', 'active', 'past_due', 'suspended']),
    trialEndsAt: z.iso.datetime().nullable().describe('When the trial ends; null once on a paid plan'),
    updatedAt: z.iso.datetime(),
  })
  .openapi('BillingAccount');

interface BillingRow {
  plan: z.output<typeof billingAccount>['plan'];
  status: z.output<typeof billingAccount>['status'];
  trial_ends_at: Date | null;
  updated_at: Date;
}

// plan and status change only through the billing flows (with the payment provider), never by a PUT here
export function registerBillingRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/billing',
    summary: "The organization's billing account: plan, status and trial end",
    tags: ['billing'],
    access: { kind: 'org' },
    params: orgParams,
    response: { status: 200, schema: billingAccount },
    handler: async ({ deps, org }) => {
      const { rows } = await deps.db.query<BillingRow>(
        'SELECT plan, status, trial_ends_at, updated_at FROM billing_accounts WHERE org_id = $1',
        [org.id],
      );
      const row = rows[0];
      if (!row) throw notFound('billing account');
      return {
        plan: row.plan,
        status: row.status,
        trialEndsAt: row.trial_ends_at?.toISOString() ?? null,
        updatedAt: row.updated_at.toISOString(),
      };
    },
  });
}
