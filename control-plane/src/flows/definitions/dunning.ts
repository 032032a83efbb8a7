import { recordAudit } from '../../audit.ts';
import { loadBillingAccount, ownerEmail } from '../../billing/account.ts';
import { emailBillingContacts } from '../../billing/contacts.ts';
import { accountOwner, upsertAccount, upsertTask } from '../../billing/crm.ts';
import { resourceSignal } from '../../dataplane/status.ts';
import { setOutboxTraceparent } from '../../dataplane/traceparent.ts';
import type { Queryable } from '../../db/pool.ts';
import { need, type Vendors } from '../../vendors/index.ts';
import { onStripeEvent } from '../../webhooks/stripe.ts';
import { defineFlow, type FlowDefinition, type StepContext } from '../definition.ts';
import { signalFlows, startFlow } from '../start.ts';
import { waitForAgents } from './provision-resource.ts';

export const dunningType = 'dunning';

/** Sent when Stripe says an invoice was paid (`invoice.paid`): a dunning flow waiting on it goes on. */
export const invoiceSignal = (invoiceId: string) => `stripe-invoice:${invoiceId}`;

export interface DunningContext extends Record<string, unknown> {
  invoiceId: string;
  customerId: string;
  subscriptionId: string | null;
  paymentIntentId: string | null;
  /** Stripe's decline code of the failed renewal (`expired_card`, …). */
  failureCode?: string | null;
  /** How long the email step may wait out the provider's "not now" (flow clock). */
  emailDeadline?: string;
  /** End of the grace period (flow clock): the data plane is suspended after it if still unpaid. */
  graceEndsAt?: string;
  taskId?: string;
  taskOwnerId?: string;
  paidBeforeSuspension?: boolean;
  /** Resources suspended, with the phase each had (restored on resume). */
  suspended?: { id: string; phase: string }[];
  suspendedAt?: string;
  /** How long the step waits for agents to confirm the suspension (flow clock). */
  deadline?: string;
  suspensionConfirmed?: boolean;
  resumedAt?: string;
  /** The suspended time given back: seconds of free service added to the paid period. */
  lapsedSeconds?: number;
  /** The new end of the paid period (Unix seconds), `trial_end` at Stripe. */
  creditUntil?: number;
}

interface DunningOptions {
  gracePeriodMs: number;
  /** How long to wait for agents to apply the suspension before going on without their word. */
  confirmTimeoutMs: number;
  /** When no `invoice.paid` arrives, Stripe is asked again this often (a lost webhook is not a lost payment). */
  paymentRecheckMs: number;
  appUrl: string;
}

const invoicePaid = async (db: Queryable, invoiceId: string): Promise<boolean> =>
  (
    await db.query(
      `SELECT 1 FROM webhook_events WHERE provider = 'stripe' AND type = 'invoice.paid' AND object_id = $1`,
      [invoiceId],
    )
  ).rows.length > 0;

const idOf = (ref: unknown): string | null =>
  typeof ref === 'string' ? ref : ((ref as { id?: string } | null)?.id ?? null);

// A renewal that fails starts one dunning flow per invoice, however often Stripe delivers the event
// or retries the payment (each failed retry sends `invoice.payment_failed` again). The first
// invoice of a subscription is billing setup's: its failure fails the setup.
onStripeEvent('invoice.payment_failed', async (tx, event) => {
  const invoice = event.data.object as {
    id: string;
    customer: unknown;
    subscription?: unknown;
    payment_intent?: unknown;
    billing_reason?: string;
  };
  if (invoice.billing_reason === 'subscription_create') return;
  const customerId = idOf(invoice.customer);
  const { rows } = await tx.query<{ org_id: string }>(
    'SELECT org_id FROM billing_accounts WHERE external_customer_id = $1',
    [customerId],
  );
  // delivered out of order after the invoice was paid: nothing to chase
  if (!rows[0] || (await invoicePaid(tx, invoice.id))) return;
  const context: DunningContext = {
    invoiceId: invoice.id,
    customerId: customerId!,
    subscriptionId: idOf(invoice.subscription),
    paymentIntentId: idOf(invoice.payment_intent),
  };
  await startFlow(tx, {
    type: dunningType,
    orgId: rows[0].org_id,
    context,
    dedupeKey: `dunning:${invoice.id}`,
  });
});

onStripeEvent('invoice.paid', async (tx, event) => {
  await signalFlows(tx, invoiceSignal((event.data.object as { id: string }).id));
});

const isoDate = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Dunning (a renewal failed, e.g. the card expired): the account goes past due; its owners and
 * billing admins (only they) are emailed; a Salesforce Task goes to the Account's owner; after the
 * grace period the organization's data-plane resources are suspended (data kept: rows and specs
 * unchanged) and the flow waits for the agents to apply it; once the invoice is paid (new card)
 * everything resumes, and the suspended time is added to the paid period at Stripe, so it is not
 * charged.
 */
export function dunningFlow(vendors: Vendors, options: DunningOptions): FlowDefinition<DunningContext> {
  const audit = (ctx: StepContext<DunningContext>) => ({ type: 'flow' as const, flowId: ctx.flowId });
  return defineFlow<DunningContext>({
    type: dunningType,
    // a vendor outage (email, CRM) is waited out with backoff rather than failing the flow
    maxAttempts: 25,
    steps: [
      {
        name: 'past-due',
        async run(ctx) {
          const { context } = ctx;
          let failureCode: string | null = null;
          if (context.paymentIntentId) {
            const intent = await need(vendors, 'stripe').paymentIntents.retrieve(context.paymentIntentId);
            failureCode = intent.last_payment_error?.decline_code || intent.last_payment_error?.code || null;
          }
          const graceEndsAt = new Date((await ctx.now()).getTime() + options.gracePeriodMs).toISOString();
          await ctx.once('past-due', async (tx) => {
            await tx.query(
              `UPDATE billing_accounts SET status = 'past_due', updated_at = now()
                WHERE org_id = $1 AND status IN ('active', 'trialing')`,
              [ctx.orgId],
            );
            await recordAudit(tx, audit(ctx), {
              orgId: ctx.orgId,
              action: 'billing.payment_failed',
              targetType: 'billing_account',
              targetId: ctx.orgId,
              data: { invoiceId: context.invoiceId, failureCode, graceEndsAt },
            });
          });
          return { context: { failureCode, graceEndsAt } };
        },
      },
      {
        name: 'notify-billing-contacts',
        async run(ctx) {
          const { context } = ctx;
          const reason =
            context.failureCode === 'expired_card' ? 'the card on file has expired' : 'the card was declined';
          const link = `${options.appUrl}/orgs/${ctx.orgId}/billing`;
          return emailBillingContacts(ctx, vendors, ctx.orgId!, (contact) => ({
            subject: 'Action needed: your Planewright payment failed',
            text: `Hello${contact.name ? ` ${contact.name}` : ''},\n\nWe could not charge your subscription: ${reason}. Update your payment method before ${context.graceEndsAt} to keep your resources running: ${link}\n`,
            html: `<p>We could not charge your subscription: ${reason}.</p><p><a href="${link}">Update your payment method</a> before ${context.graceEndsAt} to keep your resources running.</p>`,
            category: 'billing-payment-failed',
          }));
        },
      },
      {
        name: 'crm-task',
        async run(ctx) {
          const salesforce = need(vendors, 'salesforce');
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          let accountId = account.salesforceAccountId;
          if (!accountId) {
            accountId = await upsertAccount(salesforce, {
              id: account.orgId,
              name: account.orgName,
              ownerEmail: await ownerEmail(ctx.db, account.orgId),
            });
            await ctx.db.query('UPDATE billing_accounts SET salesforce_account_id = $2 WHERE org_id = $1', [
              account.orgId,
              accountId,
            ]);
          }
          const ownerId = await accountOwner(salesforce, accountId);
          const taskId = await upsertTask(salesforce, {
            externalId: `dunning:${ctx.context.invoiceId}`,
            accountId,
            ownerId,
            subject: `Payment failed for ${account.orgName}`,
            description: `Invoice ${ctx.context.invoiceId} failed (${ctx.context.failureCode ?? 'declined'}). Resources are suspended after ${ctx.context.graceEndsAt} unless it is paid.`,
            status: 'Not Started',
            dueDate: isoDate(new Date(ctx.context.graceEndsAt!)),
          });
          return { context: { taskId, taskOwnerId: ownerId } };
        },
      },
      {
        name: 'grace-period',
        async run(ctx) {
          if (await invoicePaid(ctx.db, ctx.context.invoiceId))
            return { context: { paidBeforeSuspension: true } };
          const until = new Date(ctx.context.graceEndsAt!);
          if ((await ctx.now()) < until)
            return { wait: { until, signal: invoiceSignal(ctx.context.invoiceId) } };
        },
      },
      {
        name: 'suspend',
        async run(ctx) {
          if (ctx.context.paidBeforeSuspension) return;
          const done = await ctx.once('suspend', async (tx) => {
            await setOutboxTraceparent(tx);
            // the phase agents act on; spec, generation and every row stay as they are (data kept)
            const { rows } = await tx.query<{ id: string; phase: string }>(
              `WITH live AS (
                 SELECT id, phase FROM resources
                  WHERE org_id = $1 AND deleted_at IS NULL AND phase IN ('pending', 'provisioning', 'ready', 'failed')
                  ORDER BY id FOR UPDATE)
               UPDATE resources r SET phase = 'suspended', updated_at = now() FROM live WHERE r.id = live.id
               RETURNING r.id, live.phase`,
              [ctx.orgId],
            );
            await tx.query(
              `UPDATE billing_accounts SET status = 'suspended', updated_at = now() WHERE org_id = $1`,
              [ctx.orgId],
            );
            const at = (await tx.query<{ now: Date }>('SELECT clock_now() AS now')).rows[0]!.now;
            for (const row of rows) await signalFlows(tx, resourceSignal(row.id));
            await recordAudit(tx, audit(ctx), {
              orgId: ctx.orgId,
              action: 'billing.suspended',
              targetType: 'billing_account',
              targetId: ctx.orgId,
              data: { invoiceId: ctx.context.invoiceId, resources: rows.map((row) => row.id) },
            });
            return { suspended: rows, suspendedAt: at.toISOString() };
          });
          return { context: done };
        },
      },
      {
        name: 'await-suspended',
        async run(ctx) {
          const ids = (ctx.context.suspended ?? []).map((resource) => resource.id);
          if (ids.length === 0) return;
          // agents report the phase they run (`status.phase`) once they applied it
          const { rows } = await ctx.db.query<{ id: string }>(
            `SELECT id FROM resources WHERE id = ANY($1) AND deleted_at IS NULL AND phase = 'suspended'
                AND cell_id IS NOT NULL AND status->>'phase' IS DISTINCT FROM 'suspended' ORDER BY id`,
            [ids],
          );
          const outcome = await waitForAgents(
            ctx,
            rows.map((row) => row.id),
            options.confirmTimeoutMs,
            'the suspension',
          );
          if (outcome === 'confirmed' || outcome === 'timed-out')
            return { context: { suspensionConfirmed: outcome === 'confirmed' } };
          return outcome;
        },
      },
      {
        name: 'await-payment',
        async run(ctx) {
          const { invoiceId } = ctx.context;
          if (await invoicePaid(ctx.db, invoiceId)) return;
          // no webhook yet: ask Stripe too, so a lost webhook is not a lost payment
          const invoice = await need(vendors, 'stripe').invoices.retrieve(invoiceId);
          if (invoice.status === 'paid') return;
          const until = new Date((await ctx.now()).getTime() + options.paymentRecheckMs);
          return { wait: { until, signal: invoiceSignal(invoiceId) } };
        },
      },
      {
        name: 'resume',
        async run(ctx) {
          const done = await ctx.once('resume', async (tx) => {
            await setOutboxTraceparent(tx);
            const suspended = ctx.context.suspended ?? [];
            // a resource suspended while being provisioned comes back ready if the data plane has its generation
            await tx.query(
              `UPDATE resources r SET phase = CASE
                   WHEN s.phase IN ('pending', 'provisioning') AND r.observed_generation >= r.generation THEN 'ready'
                   ELSE s.phase END, updated_at = now()
                 FROM jsonb_to_recordset($1::jsonb) AS s(id uuid, phase text)
                WHERE r.id = s.id AND r.phase = 'suspended' AND r.deleted_at IS NULL`,
              [JSON.stringify(suspended)],
            );
            await tx.query(
              `UPDATE billing_accounts SET status = 'active', updated_at = now() WHERE org_id = $1 AND status IN ('past_due', 'suspended')`,
              [ctx.orgId],
            );
            const at = (await tx.query<{ now: Date }>('SELECT clock_now() AS now')).rows[0]!.now;
            await recordAudit(tx, audit(ctx), {
              orgId: ctx.orgId,
              action: 'billing.resumed',
              targetType: 'billing_account',
              targetId: ctx.orgId,
              data: { invoiceId: ctx.context.invoiceId, resources: suspended.map((resource) => resource.id) },
            });
            return { resumedAt: at.toISOString() };
          });
          return { context: done };
        },
      },
      {
        name: 'credit-lapsed-time',
        async run(ctx) {
          const { suspendedAt, resumedAt, subscriptionId } = ctx.context;
          if (!suspendedAt || !resumedAt || !subscriptionId || ctx.context.creditUntil) return;
          const lapsedSeconds = Math.ceil((Date.parse(resumedAt) - Date.parse(suspendedAt)) / 1000);
          if (lapsedSeconds <= 0) return;
          // decided once (kept in the context), so the update below is the same request on every retry
          const subscription = await need(vendors, 'stripe').subscriptions.retrieve(subscriptionId);
          const periodEnd =
            (subscription as unknown as { current_period_end?: number }).current_period_end ??
            subscription.items.data[0]?.current_period_end;
          return { context: { lapsedSeconds, creditUntil: periodEnd! + lapsedSeconds } };
        },
      },
      {
        name: 'apply-credit',
        async run(ctx) {
          const { creditUntil, lapsedSeconds, subscriptionId, invoiceId } = ctx.context;
          if (!creditUntil || !subscriptionId) return;
          // the paid period is extended by the suspended time, free (Stripe's way: a trial until then)
          await need(vendors, 'stripe').subscriptions.update(
            subscriptionId,
            {
              trial_end: creditUntil,
              proration_behavior: 'none',
              metadata: { lapsedCreditSeconds: String(lapsedSeconds), lapsedCreditInvoice: invoiceId },
            },
            { idempotencyKey: ctx.idempotencyKey() },
          );
          await ctx.once('audit', async (tx) => {
            await recordAudit(tx, audit(ctx), {
              orgId: ctx.orgId,
              action: 'billing.lapsed_time_credited',
              targetType: 'billing_account',
              targetId: ctx.orgId,
              data: { invoiceId, lapsedSeconds, paidThrough: new Date(creditUntil * 1000).toISOString() },
            });
          });
        },
      },
      {
        name: 'close-crm-task',
        async run(ctx) {
          const { taskId, taskOwnerId, invoiceId } = ctx.context;
          if (!taskId || !taskOwnerId) return;
          const account = await loadBillingAccount(ctx.db, ctx.orgId!);
          await upsertTask(need(vendors, 'salesforce'), {
            externalId: `dunning:${invoiceId}`,
            accountId: account.salesforceAccountId!,
            ownerId: taskOwnerId,
            subject: `Payment failed for ${account.orgName}`,
            description: `Invoice ${invoiceId} was paid; service resumed.`,
            status: 'Completed',
            dueDate: isoDate(await ctx.now()),
          });
        },
      },
    ],
  });
}
