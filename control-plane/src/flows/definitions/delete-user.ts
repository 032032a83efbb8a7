import { recordAudit } from '../../audit.ts';
import type { Vendors } from '../../vendors/index.ts';
import { defineFlow, type FlowDefinition, PermanentStepError } from '../definition.ts';

export interface DeleteUserContext extends Record<string, unknown> {
  userId: string;
  requestedBy: 'self' | 'operator';
  /** What became of the user at the auth provider: `deleted`, or why nothing was done there. */
  authProvider?: string;
}

/**
 * Live organizations where `userId` is the only owner: deleting the user would leave them (and
 * their resources, secrets and billing) with nobody who may manage them, so ownership must be
 * transferred, or the organization deleted, first.
 */
export const soleOwnerOrgsSql = `
  SELECT o.id, o.name FROM memberships m JOIN organizations o ON o.id = m.org_id
   WHERE m.user_id = $1 AND m.role = 'owner' AND o.deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.org_id = m.org_id AND x.role = 'owner' AND x.user_id <> $1)`;

/**
 * Delete user: sessions and API keys revoked, memberships removed, the user deleted at the auth
 * provider, personal data erased; the user row stays as a tombstone so the audit log keeps naming
 * who did what. `vendors` is read when the step runs.
 */
export function deleteUserFlow(vendors: Vendors): FlowDefinition<DeleteUserContext> {
  return defineFlow<DeleteUserContext>({
    type: 'delete-user',
    steps: [
      {
        name: 'revoke-sessions',
        async run({ db, context }) {
          // every token issued until now stops working, whatever its expiry
          await db.query('UPDATE users SET sessions_revoked_before = clock_timestamp() WHERE id = $1', [
            context.userId,
          ]);
        },
      },
      {
        name: 'revoke-api-keys',
        async run({ db, context }) {
          await db.query(
            'UPDATE api_keys SET revoked_at = now() WHERE created_by = $1 AND revoked_at IS NULL',
            [context.userId],
          );
        },
      },
      {
        name: 'remove-memberships',
        async run({ db, context, once, flowId }) {
          const orphaned = await db.query<{ name: string }>(soleOwnerOrgsSql, [context.userId]);
          if (orphaned.rows.length > 0) {
            throw new PermanentStepError(
              `the user is the only owner of ${orphaned.rows.map((r) => r.name).join(', ')}; transfer ownership or delete the organization, then retry the flow`,
            );
          }
          await once('memberships', async (tx) => {
            const { rows } = await tx.query<{ org_id: string; role: string }>(
              'DELETE FROM memberships WHERE user_id = $1 RETURNING org_id, role',
              [context.userId],
            );
            for (const row of rows) {
              await recordAudit(
                tx,
                { type: 'flow', flowId },
                {
                  orgId: row.org_id,
                  action: 'member.deleted',
                  targetType: 'user',
                  targetId: context.userId,
                  data: { role: row.role, reason: 'user deleted' },
                },
              );
            }
            return { organizations: rows.length };
          });
        },
      },
      {
        name: 'delete-auth-user',
        async run({ db, context, logger }) {
          const auth = vendors.auth;
          if (!auth) {
            // a deployment without the provider's Management API has no way to delete there; the
            // audit entry says so
            logger.warn('the auth provider Management API is not configured: the user stays there');
            return { context: { authProvider: 'not configured' } };
          }
          const { rows } = await db.query<{ subject: string }>('SELECT subject FROM users WHERE id = $1', [
            context.userId,
          ]);
          if (!rows[0]) return { context: { authProvider: 'no such user' } };
          try {
            await auth.users.delete(rows[0].subject);
          } catch (error) {
            // already gone (a retry after a delete whose answer was lost): that is done too
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
          }
          return { context: { authProvider: 'deleted' } };
        },
      },
      {
        name: 'erase-user',
        async run({ context, once, flowId }) {
          await once('erase', async (tx) => {
            await tx.query(
              'UPDATE users SET deleted_at = now(), email = NULL, name = NULL, phone = NULL WHERE id = $1',
              [context.userId],
            );
            await recordAudit(
              tx,
              { type: 'flow', flowId },
              {
                orgId: null,
                action: 'user.deleted',
                targetType: 'user',
                targetId: context.userId,
                data: { requestedBy: context.requestedBy, authProvider: context.authProvider ?? null },
              },
            );
          });
        },
      },
    ],
  });
}
