import { actorOf, type Principal } from './auth/principal.ts';
import type { Queryable } from './db/pool.ts';

export interface AuditEntry {
  orgId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Record<string, unknown>;
  requestId?: string | null;
}

/** Appends to the audit log; call it inside the transaction that makes the change. */
export async function recordAudit(
  db: Queryable,
  actor: Principal | { type: 'flow'; flowId: string } | undefined,
  entry: AuditEntry,
): Promise<void> {
  const who = actor?.type === 'flow' ? { type: 'flow', id: actor.flowId } : actorOf(actor);
  await db.query(
    `INSERT INTO audit_log (org_id, actor_type, actor_id, action, target_type, target_id, data, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.orgId,
      who.type,
      who.id,
      entry.action,
      entry.targetType,
      entry.targetId ?? null,
      JSON.stringify(entry.data ?? {}),
      entry.requestId ?? null,
    ],
  );
}
