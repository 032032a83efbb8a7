import type { Queryable } from '../db/pool.ts';
import { notFound } from '../errors.ts';

export type Role = 'owner' | 'admin' | 'billing' | 'member';
export const roles: readonly Role[] = ['owner', 'admin', 'billing', 'member'];
/** Roles that may change the organization's members, keys, resources and secrets. */
export const adminRoles: readonly Role[] = ['owner', 'admin'];

export type Principal =
  | { type: 'user'; userId: string; subject: string; email: string | null }
  | { type: 'api_key'; keyId: string; orgId: string; role: Role; createdBy: string | null }
  /** The platform operator (ADMIN_TOKEN): only the /v1/admin API, never a tenant's routes. */
  | { type: 'operator' };

/** A caller acting within organizations: a user or an API key. */
export type TenantPrincipal = Exclude<Principal, { type: 'operator' }>;

/** The id written to the audit log for this principal. */
export function actorOf(principal: Principal | undefined): {
  type: 'user' | 'api_key' | 'system';
  id: string | null;
} {
  if (!principal) return { type: 'system', id: null };
  if (principal.type === 'operator') return { type: 'system', id: 'operator' };
  return principal.type === 'user'
    ? { type: 'user', id: principal.userId }
    : { type: 'api_key', id: principal.keyId };
}

/**
 * The caller's role in `orgId`. A caller outside the organization gets the same 404 as for an
 * organization that does not exist, so ids of other tenants reveal nothing.
 */
export async function resolveOrgAccess(db: Queryable, principal: Principal, orgId: string): Promise<Role> {
  if (principal.type === 'operator') throw notFound('organization');
  if (principal.type === 'api_key') {
    if (principal.orgId !== orgId) throw notFound('organization');
    return principal.role;
  }
  const { rows } = await db.query<{ role: Role }>(
    `SELECT m.role FROM memberships m JOIN organizations o ON o.id = m.org_id
      WHERE m.org_id = $1 AND m.user_id = $2 AND o.deleted_at IS NULL`,
    [orgId, principal.userId],
  );
  if (!rows[0]) throw notFound('organization');
  return rows[0].role;
}
