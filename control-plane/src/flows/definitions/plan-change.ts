import { recordAudit } from '../../audit.ts';
import { loadBillingAccount, refusedByStripe } from '../../billing/account.ts';
import { upsertOpportunity } from '../../billing/crm.ts';
import { ensurePrice, monthlyPriceCents, type PaidPlan, type Plan } from '../../billing/plans.ts';
import { setOutboxTraceparent } from '../../dataplane/traceparent.ts';
import { need, type Vendors } from '../../vendors/index.ts';
import { defineFlow, type FlowDefinition } from '../definition.ts';
import { waitForAgents } from './provision-resource.ts';

export const planChangeType = 'plan-change';

export interface PlanChangeContext extends Record<string, unknown> {
  plan: PaidPlan;
  fromPlan: Plan;
  priceId?: string;
  /** How long the step waits for agents to apply the new limits (flow clock). */
  deadline?: string;
  limitsConfirmed?: boolean;
}

const isoDate = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Plan change (a trial becoming paid, an upgrade or a downgrade): the subscription moves to the
 * plan's price at Stripe (a trial ends now and is invoiced), the account takes the plan, whose
 * limits reach every live resource's desired state (migration 053's trigger re-sends them), the
 * flow waits for the agents to report after applying them, and the CRM Opportunity follows.
 */
export function planChangeFlow(
  vendors: Vendors,
  options: { confirmTimeoutMs: number },
): FlowDefinition<PlanChangeContext> {
  return defineFlow<PlanChangeContext>({
    type: planChangeType,
    maxAttempts: 25,
    steps: [
      {
        name: 'stripe-subscription',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const stripe = need(vendors, 'stripe');
          const price = await ensurePrice(stripe, ctx.context.plan);
          const subscription = await stripe.subscriptions.retrieve(account.stripeSubscriptionId!);
          const item = subscription.items.data[0]!;
          const trialing = subscription.status === 'trialing';
          // already there (this step ran and committed nothing after): the same request is not needed again
          if (item.price.id === price.id && !trialing) return { context: { priceId: price.id } };
          await stripe.subscriptions
            .update(
              subscription.id,
              {
                items: [{ id: item.id, price: price.id }],
                ...(trialing ? { trial_end: 'now' as const } : {}),
                metadata: { orgId: account.orgId, plan: ctx.context.plan },
              },
              { idempotencyKey: ctx.idempotencyKey() },
            )
            .catch(refusedByStripe);
          return { context: { priceId: price.id } };
        },
      },
      {
        name: 'record-plan',
        async run(ctx) {
          await ctx.once('plan', async (tx) => {
            // the outbox trigger re-sends the organization's live resources with the new limits at commit
            await setOutboxTraceparent(tx);
            await tx.query(
              `UPDATE billing_accounts SET plan = $2, stripe_price_id = $3, trial_ends_at = NULL,
                      status = CASE WHEN status = 'trialing' THEN 'active' ELSE status END, updated_at = now()
                WHERE org_id = $1`,
              [ctx.orgId, ctx.context.plan, ctx.context.priceId],
            );
            await recordAudit(
              tx,
              { type: 'flow', flowId: ctx.flowId },
              {
                orgId: ctx.orgId,
                action: 'billing.plan_changed',
                targetType: 'billing_account',
                targetId: ctx.orgId,
                data: { from: ctx.context.fromPlan, to: ctx.context.plan },
              },
            );
          });
        },
      },
      {
        name: 'await-limits-applied',
        async run(ctx) {
          // a resource's agent has reported since its latest event (the re-send with the limits)
          const { rows } = await ctx.db.query<{ id: string }>(
            `SELECT r.id FROM resources r
              WHERE r.org_id = $1 AND outbox_resource_is_live(r)
                AND r.updated_at <= (SELECT max(e.created_at) FROM outbox_events e WHERE e.resource_id = r.id)
              ORDER BY r.id`,
            [ctx.orgId],
          );
          const outcome = await waitForAgents(
            ctx,
            rows.map((row) => row.id),
            options.confirmTimeoutMs,
            'the new limits',
          );
          if (outcome === 'confirmed' || outcome === 'timed-out')
            return { context: { limitsConfirmed: outcome === 'confirmed' } };
          return outcome;
        },
      },
      {
        name: 'crm-opportunity',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          if (!account.salesforceAccountId) return;
          const id = await upsertOpportunity(need(vendors, 'salesforce'), {
            externalId: `subscription:${account.stripeSubscriptionId}`,
            accountId: account.salesforceAccountId,
            name: `${account.orgName}: ${ctx.context.plan}`,
            stage: 'Closed Won',
            amount: monthlyPriceCents[ctx.context.plan] / 100,
            closeDate: isoDate(await ctx.now()),
          });
          await ctx.db.query(
            'UPDATE billing_accounts SET salesforce_opportunity_id = $2, updated_at = now() WHERE org_id = $1',
            [ctx.orgId, id],
          );
        },
      },
    ],
  });
}
