import { recordAudit } from '../../audit.ts';
import type { Role } from '../../auth/principal.ts';
import { paidPlans, plans } from '../../billing/plans.ts';
import type { DbClient } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { ApiError, badRequest, conflict, notFound } from '../../errors.ts';
import { billingSetupType, updatePaymentMethodType } from '../../flows/definitions/billing-setup.ts';
import { planChangeType } from '../../flows/definitions/plan-change.ts';
import { startFlow } from '../../flows/start.ts';
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

/** Who may start, change or pay for the organization's billing. */
const billingRoles: readonly Role[] = ['owner', 'billing'];

const paymentMethod = z
  .string()
  .regex(
    /^(pm|tok)_[A-Za-z0-9_]{1,200}$/,
    'a Stripe payment method id or test token (pm_… or tok_…), as Stripe.js gives it',
  )
  .describe('The card, as a Stripe payment method id made in the browser (never card numbers)');

const subscriptionBody = z
  .object({
    plan: z.enum(plans).describe('`trial` subscribes to starter, free until the trial ends'),
    paymentMethod,
    testClock: z
      .string()
      .regex(/^clock_[A-Za-z0-9]{1,100}$/)
      .optional()
      .describe('Test mode only: the Stripe test clock the customer lives on'),
  })
  .strict()
  .openapi('StartBilling');

const accepted = z
  .object({ flowId: z.uuid().describe('The flow doing it: GET /v1/admin/flows/{id} (operator)') })
  .openapi('BillingFlowAccepted');

interface LockedAccount {
  plan: string;
  status: string;
  external_customer_id: string | null;
  stripe_subscription_id: string | null;
  trial_over: boolean;
}

/** The account, locked for this change, and the unfinished billing flows of the organization. */
async function lockAccount(tx: DbClient, orgId: string, flowTypes: string[]): Promise<LockedAccount> {
  const { rows } = await tx.query<LockedAccount>(
    `SELECT plan, status, external_customer_id, stripe_subscription_id,
            (trial_ends_at IS NOT NULL AND trial_ends_at <= clock_now()) AS trial_over
       FROM billing_accounts WHERE org_id = $1 FOR UPDATE`,
    [orgId],
  );
  if (!rows[0]) throw notFound('billing account');
  const running = await tx.query<{ id: string; type: string }>(
    `SELECT id, type FROM flows WHERE org_id = $1 AND type = ANY($2) AND state IN ('pending', 'running', 'waiting') LIMIT 1`,
    [orgId, flowTypes],
  );
  if (running.rows[0])
    throw conflict(
      `a ${running.rows[0].type} flow is still under way for this organization; wait for it to finish`,
      {
        flowId: running.rows[0].id,
      },
    );
  return rows[0];
}

function needStripe(configured: boolean): void {
  if (!configured)
    throw new ApiError(
      503,
      'billing_unavailable',
      'billing is not configured on this control plane (STRIPE_SECRET_KEY)',
    );
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

  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/billing/subscription',
    summary:
      'Start billing: a flow makes the Stripe customer with its card, the subscription and the CRM records',
    tags: ['billing'],
    access: { kind: 'org', roles: billingRoles },
    params: orgParams,
    body: subscriptionBody,
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, body, principal, requestId }) => {
      if (body.testClock && !deps.config.TEST_MODE)
        throw badRequest('testClock is accepted in test mode only (TEST_MODE=true)');
      needStripe(deps.vendors.stripe !== undefined);
      return withTransaction(deps.db, async (tx) => {
        const account = await lockAccount(tx, org.id, [billingSetupType]);
        if (account.stripe_subscription_id)
          throw conflict(
            'billing has already started; change the plan with PUT /v1/orgs/{orgId}/billing/plan',
          );
        if (body.plan === 'trial' && (account.plan !== 'trial' || account.trial_over))
          throw conflict('the trial is over; choose a paid plan (starter, pro or enterprise)');
        const flow = await startFlow(tx, {
          type: billingSetupType,
          orgId: org.id,
          context: { plan: body.plan, paymentMethod: body.paymentMethod, testClock: body.testClock },
        });
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'billing.setup_requested',
          targetType: 'billing_account',
          targetId: org.id,
          data: { plan: body.plan, flowId: flow.id },
          requestId,
        });
        return { flowId: flow.id };
      });
    },
  });

  api.route({
    method: 'put',
    path: '/v1/orgs/{orgId}/billing/plan',
    summary:
      'Change the plan (a trial becomes paid): a flow changes the subscription, the data-plane limits and the CRM',
    tags: ['billing'],
    access: { kind: 'org', roles: billingRoles },
    params: orgParams,
    body: z
      .object({ plan: z.enum(paidPlans) })
      .strict()
      .openapi('ChangePlan'),
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, body, principal, requestId }) => {
      needStripe(deps.vendors.stripe !== undefined);
      return withTransaction(deps.db, async (tx) => {
        const account = await lockAccount(tx, org.id, [billingSetupType, planChangeType]);
        if (!account.stripe_subscription_id)
          throw conflict('billing has not started; POST /v1/orgs/{orgId}/billing/subscription first');
        if (account.status === 'past_due' || account.status === 'suspended')
          throw conflict(`the account is ${account.status}; update the payment method first`);
        if (account.plan === body.plan)
          throw conflict(`the organization is already on the ${body.plan} plan`);
        const flow = await startFlow(tx, {
          type: planChangeType,
          orgId: org.id,
          context: { plan: body.plan, fromPlan: account.plan },
        });
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'billing.plan_change_requested',
          targetType: 'billing_account',
          targetId: org.id,
          data: { from: account.plan, to: body.plan, flowId: flow.id },
          requestId,
        });
        return { flowId: flow.id };
      });
    },
  });

  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/billing/payment-method',
    summary: 'Replace the card: a flow makes it the default and pays the open invoices with it',
    tags: ['billing'],
    access: { kind: 'org', roles: billingRoles },
    params: orgParams,
    body: z.object({ paymentMethod }).strict().openapi('UpdatePaymentMethod'),
    response: { status: 202, schema: accepted },
    handler: async ({ deps, org, body, principal, requestId }) => {
      needStripe(deps.vendors.stripe !== undefined);
      return withTransaction(deps.db, async (tx) => {
        const account = await lockAccount(tx, org.id, [billingSetupType, updatePaymentMethodType]);
        if (!account.external_customer_id)
          throw conflict('billing has not started; POST /v1/orgs/{orgId}/billing/subscription first');
        const flow = await startFlow(tx, {
          type: updatePaymentMethodType,
          orgId: org.id,
          context: { paymentMethod: body.paymentMethod },
        });
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'billing.payment_method_update_requested',
          targetType: 'billing_account',
          targetId: org.id,
          data: { flowId: flow.id },
          requestId,
        });
        return { flowId: flow.id };
      });
    },
  });
}
