import { recordAudit } from '../../audit.ts';
import { resourceSignal, signalResourceFlows } from '../../dataplane/status.ts';
import { setOutboxTraceparent, withOutboxTransaction } from '../../dataplane/traceparent.ts';
import type { Queryable } from '../../db/pool.ts';
import { need, type Vendors } from '../../vendors/index.ts';
import { defineFlow, type FlowDefinition, PermanentStepError, type StepContext } from '../definition.ts';

export const deleteTenantType = 'delete-tenant';

export interface DeleteTenantContext extends Record<string, unknown> {
  orgId: string;
  /** When the owner asked (flow clock): the retention period counts from here. */
  requestedAt: string;
  requestId?: string | null;
  /** The vendors' ids of the organization, read once by `plan`. */
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  salesforceAccountId?: string | null;
  /** Members who belong to no other organization: removed from the auth provider. */
  users?: { userId: string; subject: string }[];
  /** The end of the wait for the data plane (flow clock), fixed at its first wait. */
  deadline?: string;
}

/** The vendors' ids of the organization's billing (stored by billing setup); null where it has none. */
async function readVendorIds(db: Queryable, orgId: string) {
  const { rows } = await db.query<{
    stripe_customer_id: string | null;
    stripe_subscription_id: string | null;
    salesforce_account_id: string | null;
  }>(
    `SELECT external_customer_id AS stripe_customer_id, stripe_subscription_id, salesforce_account_id
       FROM billing_accounts WHERE org_id = $1`,
    [orgId],
  );
  return {
    stripeCustomerId: rows[0]?.stripe_customer_id ?? null,
    stripeSubscriptionId: rows[0]?.stripe_subscription_id ?? null,
    salesforceAccountId: rows[0]?.salesforce_account_id ?? null,
  };
}

interface PendingResource {
  id: string;
  name: string;
  cell_id: string | null;
  generation: number;
  observed_generation: number;
  status: Record<string, unknown>;
  last_error: { generation: number } | null;
}

/**
 * The agent confirmed the removal: it reported the resource deleted, or reported the desired phase
 * `deprovisioning` applied at the current generation without an error.
 */
function confirmedGone(resource: PendingResource): boolean {
  if (resource.status.deleted === true || resource.status.phase === 'deleted') return true;
  const failed = resource.last_error && resource.last_error.generation >= resource.generation;
  return (
    resource.status.phase === 'deprovisioning' &&
    Number(resource.observed_generation) >= Number(resource.generation) &&
    !failed
  );
}

const vendorError = (error: unknown) => error as { statusCode?: number; code?: string; errorCode?: string };

/**
 * Delete tenant: the organization was hidden and its keys revoked by the request; this flow cancels
 * its Stripe subscriptions, marks its Salesforce account, has every data-plane resource removed
 * (the agents confirm), removes members who belong to no other organization from the auth
 * provider, and, after the retention period on the flow clock, purges the organization's metadata.
 * The audit log is kept.
 */
export function deleteTenantFlow(options: {
  vendors: Vendors;
  /** How long metadata is kept after the request (TENANT_RETENTION_MS). */
  retentionMs: number;
  /** How long to wait for the agents to confirm (PROVISION_TIMEOUT_MS). */
  dataPlaneTimeoutMs: number;
}): FlowDefinition<DeleteTenantContext> {
  const { vendors } = options;
  const audit = (ctx: StepContext<DeleteTenantContext>, tx: Queryable, action: string, data = {}) =>
    recordAudit(
      tx,
      { type: 'flow', flowId: ctx.flowId },
      {
        orgId: ctx.context.orgId,
        action,
        targetType: 'organization',
        targetId: ctx.context.orgId,
        data,
        requestId: ctx.context.requestId ?? null,
      },
    );

  return defineFlow<DeleteTenantContext>({
    type: deleteTenantType,
    steps: [
      {
        name: 'plan',
        async run({ db, context }) {
          const ids = await readVendorIds(db, context.orgId);
          // members with no other live organization leave the auth provider with this one
          const { rows } = await db.query<{ user_id: string; subject: string }>(
            `SELECT u.id AS user_id, u.subject FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = $1 AND u.deleted_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM memberships x JOIN organizations o ON o.id = x.org_id
                                 WHERE x.user_id = m.user_id AND x.org_id <> $1 AND o.deleted_at IS NULL)
              ORDER BY u.id`,
            [context.orgId],
          );
          return { context: { ...ids, users: rows.map((r) => ({ userId: r.user_id, subject: r.subject })) } };
        },
      },
      {
        name: 'cancel-subscription',
        async run(ctx) {
          const { stripeCustomerId, stripeSubscriptionId } = ctx.context;
          if (!stripeCustomerId && !stripeSubscriptionId) return;
          const stripe = need(vendors, 'stripe');
          const ids = new Set<string>(stripeSubscriptionId ? [stripeSubscriptionId] : []);
          if (stripeCustomerId) {
            for await (const subscription of stripe.subscriptions.list({
              customer: stripeCustomerId,
              status: 'all',
              limit: 100,
            })) {
              ids.add(subscription.id);
            }
          }
          const ended: string[] = [];
          for (const id of ids) {
            let status: string;
            try {
              status = (await stripe.subscriptions.retrieve(id)).status;
            } catch (error) {
              if (vendorError(error).statusCode === 404) continue;
              throw error;
            }
            ended.push(id);
            // a retry after a crash finds it cancelled: one cancellation, whatever happened before
            if (status === 'canceled' || status === 'incomplete_expired') continue;
            await stripe.subscriptions.cancel(id, {}, { idempotencyKey: ctx.idempotencyKey(`cancel-${id}`) });
          }
          // audited once, with every subscription now ended (also one a crashed attempt cancelled)
          if (ended.length > 0) {
            await ctx.once('audit', (tx) =>
              audit(ctx, tx, 'billing.subscription_cancelled', { subscriptions: ended }),
            );
          }
        },
      },
      {
        name: 'update-crm',
        async run({ context }) {
          const accountId = context.salesforceAccountId;
          if (!accountId) return;
          const salesforce = need(vendors, 'salesforce');
          const gone = (code: string | undefined) => code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED';
          try {
            // an update sets the same fields on every retry: no second record, whatever happens
            const saved = await salesforce.run((connection) =>
              connection.sobject('Account').update({
                Id: accountId,
                Type: 'Other',
                Description: `Planewright organization ${context.orgId} deleted on ${context.requestedAt.slice(0, 10)}; subscription cancelled`,
              }),
            );
            const errors = (
              saved as { success?: boolean; errors?: { errorCode?: string; statusCode?: string }[] }
            ).errors;
            if (saved.success === false && !errors?.some((e) => gone(e.errorCode ?? e.statusCode)))
              throw new Error(`Salesforce did not update Account ${accountId}: ${JSON.stringify(errors)}`);
          } catch (error) {
            // the account was deleted in the CRM: nothing left to mark
            if (gone(vendorError(error).errorCode)) return;
            throw error;
          }
        },
      },
      {
        name: 'deprovision-resources',
        async run(ctx) {
          // the events agents receive join this flow's trace
          await withOutboxTransaction(ctx.db, async (tx) => {
            const { rows } = await tx.query<{ id: string; name: string; generation: number }>(
              `UPDATE resources SET phase = 'deprovisioning', updated_at = now()
                WHERE org_id = $1 AND deleted_at IS NULL AND phase NOT IN ('deprovisioning', 'deleted')
                RETURNING id, name, generation`,
              [ctx.context.orgId],
            );
            for (const row of rows) {
              // a provisioning flow still waiting for this resource wakes up and steps aside
              await signalResourceFlows(tx, row.id);
              await recordAudit(
                tx,
                { type: 'flow', flowId: ctx.flowId },
                {
                  orgId: ctx.context.orgId,
                  action: 'resource.deprovision_requested',
                  targetType: 'resource',
                  targetId: row.id,
                  data: { name: row.name, generation: row.generation, reason: 'organization deleted' },
                },
              );
            }
          });
        },
      },
      {
        name: 'await-data-plane',
        async run(ctx) {
          const { rows } = await ctx.db.query<PendingResource>(
            `SELECT id, name, cell_id, generation, observed_generation, status, last_error FROM resources
              WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id`,
            [ctx.context.orgId],
          );
          const pending = rows.filter((row) => !confirmedGone(row));
          if (pending.length === 0) {
            await ctx.once('finalize', async (tx) => {
              // resource.deleted reaches the agents in this flow's trace; they drop what is left
              await setOutboxTraceparent(tx);
              const { rows: finalized } = await tx.query<{ id: string; name: string; generation: number }>(
                `UPDATE resources SET phase = 'deleted', deleted_at = now(), updated_at = now()
                  WHERE org_id = $1 AND deleted_at IS NULL RETURNING id, name, generation`,
                [ctx.context.orgId],
              );
              for (const row of finalized) {
                await recordAudit(
                  tx,
                  { type: 'flow', flowId: ctx.flowId },
                  {
                    orgId: ctx.context.orgId,
                    action: 'resource.deleted',
                    targetType: 'resource',
                    targetId: row.id,
                    data: { name: row.name, generation: row.generation },
                  },
                );
              }
            });
            return;
          }
          const now = (await ctx.now()).getTime();
          const deadline = ctx.context.deadline
            ? Date.parse(ctx.context.deadline)
            : now + options.dataPlaneTimeoutMs;
          if (now >= deadline) {
            const cells = [...new Set(pending.map((row) => row.cell_id))].join(', ');
            throw new PermanentStepError(
              `the data plane did not confirm the removal of ${pending.map((row) => `"${row.name}"`).join(', ')} ` +
                `within ${options.dataPlaneTimeoutMs} ms; retry this flow once the agents of ${cells} report again`,
            );
          }
          // one resource at a time: each report on it wakes the step, which then waits for the next
          return {
            context: { deadline: new Date(deadline).toISOString() },
            wait: { signal: resourceSignal(pending[0]!.id), until: new Date(deadline) },
          };
        },
      },
      {
        name: 'remove-users',
        async run(ctx) {
          for (const user of ctx.context.users ?? []) {
            // joined another organization since: stays
            const { rows } = await ctx.db.query(
              `SELECT 1 FROM memberships x JOIN organizations o ON o.id = x.org_id
                WHERE x.user_id = $1 AND x.org_id <> $2 AND o.deleted_at IS NULL LIMIT 1`,
              [user.userId, ctx.context.orgId],
            );
            if (rows[0]) continue;
            await ctx.db.query(
              'UPDATE users SET sessions_revoked_before = clock_timestamp() WHERE id = $1 AND deleted_at IS NULL',
              [user.userId],
            );
            if (vendors.auth) {
              try {
                await vendors.auth.users.delete(user.subject);
              } catch (error) {
                // gone already (an earlier attempt, or removed by hand): that is what was wanted
                if (vendorError(error).statusCode !== 404) throw error;
              }
            } else {
              // as delete-user: without the Management API the user stays at the provider
              ctx.logger.warn('the auth provider Management API is not configured: the user stays there');
            }
            await ctx.once(`erase-${user.userId}`, async (tx) => {
              await tx.query(
                'UPDATE users SET deleted_at = COALESCE(deleted_at, now()), email = NULL, name = NULL WHERE id = $1',
                [user.userId],
              );
              await recordAudit(
                tx,
                { type: 'flow', flowId: ctx.flowId },
                {
                  orgId: ctx.context.orgId,
                  action: 'user.deleted',
                  targetType: 'user',
                  targetId: user.userId,
                  data: {
                    reason: 'organization deleted',
                    authProvider: vendors.auth ? 'deleted' : 'not configured',
                  },
                },
              );
            });
          }
        },
      },
      {
        name: 'await-retention',
        async run(ctx) {
          const purgeAt = Date.parse(ctx.context.requestedAt) + options.retentionMs;
          if ((await ctx.now()).getTime() < purgeAt) return { wait: { until: new Date(purgeAt) } };
        },
      },
      {
        name: 'purge',
        async run(ctx) {
          await ctx.once('purge', async (tx) => {
            // memberships, invitations, keys, resources, secrets and the billing account go with it
            // (ON DELETE CASCADE); the audit log has no foreign key and stays
            const { rows } = await tx.query<{ slug: string }>(
              'DELETE FROM organizations WHERE id = $1 AND deleted_at IS NOT NULL RETURNING slug',
              [ctx.context.orgId],
            );
            if (rows[0]) await audit(ctx, tx, 'organization.purged', { slug: rows[0].slug });
          });
        },
      },
    ],
  });
}
