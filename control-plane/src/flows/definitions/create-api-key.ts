import { recordAudit } from '../../audit.ts';
import type { DbClient } from '../../db/pool.ts';
import { defineFlow, type FlowDefinition, PermanentStepError } from '../definition.ts';

/** The flow's persisted context: the key's id only, never its secret. */
export interface CreateApiKeyContext extends Record<string, unknown> {
  keyId: string;
  /** The request that asked for the key, so the audit entry names it. */
  requestId?: string | null;
}

export const maxActiveApiKeysPerOrg = 25;

type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Decides under a per-organization lock whether key `keyId` may become active. Taking the lock
 * serializes the quota decisions of one organization, so two keys created at once cannot both
 * take its last free slot. A key refused for the quota is revoked in the same transaction.
 */
async function checkQuota(tx: DbClient, keyId: string): Promise<Verdict> {
  const { rows } = await tx.query<{ org_id: string; revoked_at: Date | null; activated_at: Date | null }>(
    'SELECT org_id, revoked_at, activated_at FROM api_keys WHERE id = $1',
    [keyId],
  );
  const key = rows[0];
  if (!key) return { ok: false, reason: 'the key no longer exists (its organization was deleted)' };
  if (key.revoked_at) return { ok: false, reason: 'the key was revoked before it was activated' };
  if (key.activated_at) return { ok: true };
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('api-key-quota:' || $1))`, [key.org_id]);
  const { rows: counted } = await tx.query<{ active: number }>(
    `SELECT count(*)::int AS active FROM api_keys
      WHERE org_id = $1 AND activated_at IS NOT NULL AND revoked_at IS NULL`,
    [key.org_id],
  );
  if ((counted[0]?.active ?? 0) < maxActiveApiKeysPerOrg) return { ok: true };
  await tx.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [keyId]);
  return {
    ok: false,
    reason: `the organization already has ${maxActiveApiKeysPerOrg} active API keys; revoke one, then create the key again`,
  };
}

/**
 * Create API key: the request inserted the key inactive; the flow checks the organization's quota,
 * activates the key and audits it. Only an activated key authenticates.
 */
export const createApiKeyFlow: FlowDefinition<CreateApiKeyContext> = defineFlow<CreateApiKeyContext>({
  type: 'create-api-key',
  steps: [
    {
      name: 'check-quota',
      async run({ context, once }) {
        const verdict = await once('quota', (tx) => checkQuota(tx, context.keyId));
        if (!verdict.ok) throw new PermanentStepError(verdict.reason);
      },
    },
    {
      name: 'activate',
      async run({ context, once }) {
        // the quota is decided again under the lock: another key may have been activated since check-quota
        const verdict = await once('activate', async (tx) => {
          const decided = await checkQuota(tx, context.keyId);
          if (decided.ok) {
            await tx.query(
              'UPDATE api_keys SET activated_at = COALESCE(activated_at, now()) WHERE id = $1 AND revoked_at IS NULL',
              [context.keyId],
            );
          }
          return decided;
        });
        if (!verdict.ok) throw new PermanentStepError(verdict.reason);
      },
    },
    {
      name: 'audit',
      async run({ context, once, flowId }) {
        await once('audit', async (tx) => {
          const { rows } = await tx.query<{
            org_id: string;
            name: string;
            prefix: string;
            role: string;
            created_by: string | null;
          }>('SELECT org_id, name, prefix, role, created_by FROM api_keys WHERE id = $1', [context.keyId]);
          const key = rows[0];
          if (!key) return;
          await recordAudit(
            tx,
            { type: 'flow', flowId },
            {
              orgId: key.org_id,
              action: 'api_key.created',
              targetType: 'api_key',
              targetId: context.keyId,
              data: { name: key.name, prefix: key.prefix, role: key.role, createdBy: key.created_by },
              requestId: context.requestId ?? null,
            },
          );
        });
      },
    },
  ],
});
