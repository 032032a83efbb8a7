import { recordAudit } from '../../audit.ts';
import { loadBillingAccount, ownerEmail, refusedByStripe } from '../../billing/account.ts';
import { upsertAccount, upsertOpportunity } from '../../billing/crm.ts';
import { ensurePrice, monthlyPriceCents, type Plan, pricedPlan } from '../../billing/plans.ts';
import { need, type Vendors } from '../../vendors/index.ts';
import { defineFlow, type FlowDefinition, PermanentStepError } from '../definition.ts';

export const billingSetupType = 'billing-setup';
export const updatePaymentMethodType = 'update-payment-method';

export interface BillingSetupContext extends Record<string, unknown> {
  plan: Plan;
  /** A Stripe payment method id or test token (`pm_…`) made by the customer's browser. */
  paymentMethod: string;
  /** Test mode only: the Stripe test clock the customer lives on. */
  testClock?: string;
  subscriptionId?: string;
}

const day = 86_400_000;
const isoDate = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Billing setup: the organization's Stripe customer (with its card), its Salesforce Account, its
 * subscription (a trial runs on the starter price, free until the trial ends), and a CRM
 * Opportunity for it. Every Stripe call carries the step's idempotency key; CRM records are
 * upserted by external id.
 */
export function billingSetupFlow(vendors: Vendors): FlowDefinition<BillingSetupContext> {
  return defineFlow<BillingSetupContext>({
    type: billingSetupType,
    steps: [
      {
        name: 'customer',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const stripe = need(vendors, 'stripe');
          if (account.stripeCustomerId) {
            // made by this flow (a step re-run after its write committed): it has this card already
            const existing = await stripe.customers.retrieve(account.stripeCustomerId);
            if (!existing.deleted && existing.metadata.setupFlowId === ctx.flowId) return;
            // an earlier setup made the customer, then its card was refused: this setup's card replaces it
            const attached = await stripe.paymentMethods
              .attach(
                ctx.context.paymentMethod,
                { customer: account.stripeCustomerId },
                { idempotencyKey: ctx.idempotencyKey('attach') },
              )
              .catch(refusedByStripe);
            await stripe.customers
              .update(
                account.stripeCustomerId,
                { invoice_settings: { default_payment_method: attached.id } },
                { idempotencyKey: ctx.idempotencyKey('default') },
              )
              .catch(refusedByStripe);
            return;
          }
          const email = await ownerEmail(ctx.db, account.orgId);
          const customer = await stripe.customers
            .create(
              {
                name: account.orgName,
                ...(email ? { email } : {}),
                metadata: { orgId: account.orgId, setupFlowId: ctx.flowId },
                payment_method: ctx.context.paymentMethod,
                invoice_settings: { default_payment_method: ctx.context.paymentMethod },
                ...(ctx.context.testClock ? { test_clock: ctx.context.testClock } : {}),
              },
              { idempotencyKey: ctx.idempotencyKey() },
            )
            .catch(refusedByStripe);
          await ctx.db.query(
            'UPDATE billing_accounts SET external_customer_id = $2, updated_at = now() WHERE org_id = $1',
            [account.orgId, customer.id],
          );
        },
      },
      {
        name: 'crm-account',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          if (account.salesforceAccountId) return;
          const id = await upsertAccount(need(vendors, 'salesforce'), {
            id: account.orgId,
            name: account.orgName,
            ownerEmail: await ownerEmail(ctx.db, account.orgId),
          });
          await ctx.db.query(
            'UPDATE billing_accounts SET salesforce_account_id = $2, updated_at = now() WHERE org_id = $1',
            [account.orgId, id],
          );
        },
      },
      {
        name: 'subscription',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          if (account.stripeSubscriptionId)
            return { context: { subscriptionId: account.stripeSubscriptionId } };
          const stripe = need(vendors, 'stripe');
          const { plan } = ctx.context;
          const price = await ensurePrice(stripe, pricedPlan(plan));
          const now = (await ctx.now()).getTime();
          // what is left of the organization's trial, in whole days (Stripe counts on the customer's clock)
          const trialDays =
            plan === 'trial'
              ? Math.max(1, Math.ceil(((account.trialEndsAt?.getTime() ?? now) - now) / day))
              : undefined;
          const subscription = await stripe.subscriptions
            .create(
              {
                customer: account.stripeCustomerId!,
                items: [{ price: price.id }],
                payment_behavior: 'error_if_incomplete',
                metadata: { orgId: account.orgId, plan },
                ...(trialDays ? { trial_period_days: trialDays } : {}),
              },
              { idempotencyKey: ctx.idempotencyKey() },
            )
            .catch(refusedByStripe);
          if (subscription.status !== 'active' && subscription.status !== 'trialing')
            throw new PermanentStepError(
              `the subscription is ${subscription.status}: the card was not charged`,
            );
          await ctx.once('record', async (tx) => {
            await tx.query(
              `UPDATE billing_accounts SET stripe_subscription_id = $2, stripe_price_id = $3, plan = $4,
                      status = $5, trial_ends_at = CASE WHEN $5 = 'trialing' THEN trial_ends_at END, updated_at = now()
                WHERE org_id = $1`,
              [account.orgId, subscription.id, price.id, plan, plan === 'trial' ? 'trialing' : 'active'],
            );
            await recordAudit(
              tx,
              { type: 'flow', flowId: ctx.flowId },
              {
                orgId: account.orgId,
                action: 'billing.subscription_created',
                targetType: 'billing_account',
                targetId: account.orgId,
                data: { plan, subscriptionId: subscription.id, customerId: account.stripeCustomerId },
              },
            );
          });
          return { context: { subscriptionId: subscription.id } };
        },
      },
      {
        name: 'crm-opportunity',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const plan = ctx.context.plan;
          const id = await upsertOpportunity(need(vendors, 'salesforce'), {
            externalId: `subscription:${ctx.context.subscriptionId}`,
            accountId: account.salesforceAccountId!,
            name: `${account.orgName}: ${plan}`,
            stage: plan === 'trial' ? 'Prospecting' : 'Closed Won',
            amount: monthlyPriceCents[pricedPlan(plan)] / 100,
            closeDate: isoDate(await ctx.now()),
          });
          await ctx.db.query(
            'UPDATE billing_accounts SET salesforce_opportunity_id = $2, updated_at = now() WHERE org_id = $1',
            [account.orgId, id],
          );
        },
      },
    ],
  });
}

export interface UpdatePaymentMethodContext extends Record<string, unknown> {
  paymentMethod: string;
  /** The attached payment method's id (a test token becomes a `pm_…` of its own). */
  attached?: string;
}

/**
 * Update payment method: the new card is attached and made the default of the customer and the
 * subscription, then every open invoice is paid with it (an `invoice.paid` webhook follows, which
 * is what ends a dunning flow).
 */
export function updatePaymentMethodFlow(vendors: Vendors): FlowDefinition<UpdatePaymentMethodContext> {
  return defineFlow<UpdatePaymentMethodContext>({
    type: updatePaymentMethodType,
    steps: [
      {
        name: 'attach',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const stripe = need(vendors, 'stripe');
          const attached = await stripe.paymentMethods
            .attach(
              ctx.context.paymentMethod,
              { customer: account.stripeCustomerId! },
              { idempotencyKey: ctx.idempotencyKey() },
            )
            .catch(refusedByStripe);
          return { context: { attached: attached.id } };
        },
      },
      {
        name: 'make-default',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const stripe = need(vendors, 'stripe');
          const pm = ctx.context.attached!;
          await stripe.customers
            .update(
              account.stripeCustomerId!,
              { invoice_settings: { default_payment_method: pm } },
              { idempotencyKey: ctx.idempotencyKey('customer') },
            )
            .catch(refusedByStripe);
          if (account.stripeSubscriptionId)
            await stripe.subscriptions
              .update(
                account.stripeSubscriptionId,
                { default_payment_method: pm },
                { idempotencyKey: ctx.idempotencyKey('subscription') },
              )
              .catch(refusedByStripe);
        },
      },
      {
        name: 'pay-open-invoices',
        async run(ctx) {
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          const stripe = need(vendors, 'stripe');
          const open = await stripe.invoices.list({
            customer: account.stripeCustomerId!,
            status: 'open',
            limit: 100,
          });
          for (const invoice of open.data) {
            await stripe.invoices
              .pay(invoice.id!, {}, { idempotencyKey: ctx.idempotencyKey(invoice.id!) })
              .catch(refusedByStripe);
          }
          await ctx.once('audit', async (tx) => {
            await recordAudit(
              tx,
              { type: 'flow', flowId: ctx.flowId },
              {
                orgId: account.orgId,
                action: 'billing.payment_method_updated',
                targetType: 'billing_account',
                targetId: account.orgId,
                data: { paymentMethod: ctx.context.attached, invoicesPaid: open.data.map((i) => i.id) },
              },
            );
          });
        },
      },
    ],
  });
}
