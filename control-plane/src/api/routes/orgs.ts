import { recordAudit } from '../../audit.ts';
import { adminRoles, type Role } from '../../auth/principal.ts';
import { type Queryable, withTransaction } from '../../db/pool.ts';
import { conflict, forbidden, notFound } from '../../errors.ts';
import { deleteTenantType } from '../../flows/definitions/delete-tenant.ts';
import { startFlow } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { orgParams, role, z } from '../zod.ts';

const organization = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    createdAt: z.iso.datetime(),
    role: role.describe("The caller's role in this organization"),
  })
  .openapi('Organization');

const member = z
  .object({
    userId: z.uuid(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    role,
    joinedAt: z.iso.datetime(),
  })
  .openapi('Member');

const slug = z
  .string()
  .min(3)
  .max(48)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and inner dashes');

interface OrgRow {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
  role: Role;
}
const toOrganization = (row: OrgRow) => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  createdAt: row.created_at.toISOString(),
  role: row.role,
});

const tenantDeletion = z
  .object({
    flowId: z.uuid().describe('The delete-tenant flow (operators follow it under /v1/admin/flows)'),
    purgeAfter: z.iso.datetime().describe("When the organization's metadata is purged (TENANT_RETENTION_MS)"),
  })
  .openapi('TenantDeletion');

/** Flows that create or change the organization's Stripe subscription: a deletion waits for them. */
const billingChanges = ['billing-setup', 'plan-change', 'update-payment-method'];

const memberParams = orgParams.extend({ userId: z.uuid() });
const TRIAL_DAYS = 14;

export function registerOrgRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/orgs',
    summary: 'Create an organization; the caller becomes its owner and it starts on a trial',
    tags: ['organizations'],
    access: { kind: 'authenticated' },
    body: z.object({ name: z.string().trim().min(1).max(100), slug }).strict(),
    response: { status: 201, schema: organization },
    handler: async ({ deps, principal, body, requestId }) => {
      if (principal?.type !== 'user')
        throw forbidden('only a user (not an API key) can create an organization');
      return withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<OrgRow>(
          `INSERT INTO organizations (name, slug) VALUES ($1, $2)
           ON CONFLICT (slug) DO NOTHING RETURNING id, name, slug, created_at, 'owner' AS role`,
          [body.name, body.slug],
        );
        if (!rows[0]) throw conflict(`the slug "${body.slug}" is taken`);
        const org = rows[0];
        await tx.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`, [
          org.id,
          principal.userId,
        ]);
        await tx.query(
          `INSERT INTO billing_accounts (org_id, plan, status, trial_ends_at)
           VALUES ($1, 'trial', 'trialing', clock_now() + make_interval(days => $2))`,
          [org.id, TRIAL_DAYS],
        );
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'organization.created',
          targetType: 'organization',
          targetId: org.id,
          data: { name: org.name, slug: org.slug },
          requestId,
        });
        return toOrganization(org);
      });
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs',
    summary: "List the caller's organizations",
    tags: ['organizations'],
    access: { kind: 'authenticated' },
    response: { status: 200, schema: z.object({ data: z.array(organization) }) },
    handler: async ({ deps, principal }) => {
      const { rows } =
        principal!.type === 'user'
          ? await deps.db.query<OrgRow>(
              `SELECT o.id, o.name, o.slug, o.created_at, m.role FROM organizations o
                 JOIN memberships m ON m.org_id = o.id
                WHERE m.user_id = $1 AND o.deleted_at IS NULL ORDER BY o.created_at`,
              [principal!.userId],
            )
          : await deps.db.query<OrgRow>(
              `SELECT id, name, slug, created_at, $2::text AS role FROM organizations WHERE id = $1 AND deleted_at IS NULL`,
              [principal!.orgId, principal!.role],
            );
      return { data: rows.map(toOrganization) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}',
    summary: 'Get an organization',
    tags: ['organizations'],
    access: { kind: 'org' },
    params: orgParams,
    response: { status: 200, schema: organization },
    handler: async ({ deps, org }) => {
      const { rows } = await deps.db.query<OrgRow>(
        'SELECT id, name, slug, created_at, $2::text AS role FROM organizations WHERE id = $1',
        [org.id, org.role],
      );
      return toOrganization(rows[0]!);
    },
  });

  api.route({
    method: 'patch',
    path: '/v1/orgs/{orgId}',
    summary: 'Rename an organization',
    tags: ['organizations'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    body: z.object({ name: z.string().trim().min(1).max(100) }).strict(),
    response: { status: 200, schema: organization },
    handler: async ({ deps, org, body, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<OrgRow>(
          'UPDATE organizations SET name = $2 WHERE id = $1 RETURNING id, name, slug, created_at, $3::text AS role',
          [org.id, body.name, org.role],
        );
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'organization.renamed',
          targetType: 'organization',
          targetId: org.id,
          data: { name: body.name },
          requestId,
        });
        return toOrganization(rows[0]!);
      }),
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}',
    summary:
      'Delete the organization (owners only): it disappears at once, a flow cancels its subscription, updates the CRM, deprovisions its resources, removes members who have no other organization, and purges its metadata after the retention period; the audit log is kept',
    tags: ['organizations'],
    access: { kind: 'org', roles: ['owner'] },
    params: orgParams,
    response: { status: 202, schema: tenantDeletion },
    handler: async ({ deps, org, principal, requestId }) => {
      if (principal?.type !== 'user')
        throw forbidden('only a signed-in owner can delete an organization; API keys cannot');
      return withTransaction(deps.db, async (tx) => {
        // billing starts and changes lock the account too: none can begin until this commits
        await tx.query('SELECT 1 FROM billing_accounts WHERE org_id = $1 FOR UPDATE', [org.id]);
        const busy = await tx.query<{ type: string }>(
          `SELECT type FROM flows WHERE org_id = $1 AND type = ANY($2) AND state IN ('pending', 'running', 'waiting') LIMIT 1`,
          [org.id, billingChanges],
        );
        // cancelling now would race the flow that is making the subscription: it could outlive us
        if (busy.rows[0])
          throw conflict(
            `a ${busy.rows[0].type} flow of this organization is still running; delete the organization once it has finished`,
          );
        const { rows } = await tx.query<{ slug: string; requested_at: Date }>(
          `UPDATE organizations SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL
           RETURNING slug, clock_now() AS requested_at`,
          [org.id],
        );
        // deleted by a concurrent request: the organization is gone for this caller too
        if (!rows[0]) throw notFound('organization');
        const requestedAt = rows[0].requested_at;
        // nothing acts for the organization any more: its keys stop working, its invitations too
        const keys = await tx.query(
          'UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL',
          [org.id],
        );
        const invitations = await tx.query(
          `UPDATE invitations SET status = 'revoked' WHERE org_id = $1 AND status = 'pending'`,
          [org.id],
        );
        const flow = await startFlow(tx, {
          type: deleteTenantType,
          orgId: org.id,
          context: { orgId: org.id, requestedAt: requestedAt.toISOString(), requestId },
          dedupeKey: `${deleteTenantType}:${org.id}`,
        });
        const purgeAfter = new Date(requestedAt.getTime() + deps.config.TENANT_RETENTION_MS);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'organization.deletion_requested',
          targetType: 'organization',
          targetId: org.id,
          data: {
            slug: rows[0].slug,
            flowId: flow.id,
            purgeAfter: purgeAfter.toISOString(),
            revokedApiKeys: keys.rowCount ?? 0,
            revokedInvitations: invitations.rowCount ?? 0,
          },
          requestId,
        });
        return { flowId: flow.id, purgeAfter: purgeAfter.toISOString() };
      });
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/members',
    summary: 'List the members of an organization',
    tags: ['members'],
    access: { kind: 'org' },
    params: orgParams,
    response: { status: 200, schema: z.object({ data: z.array(member) }) },
    handler: async ({ deps, org }) => {
      const { rows } = await deps.db.query<{
        user_id: string;
        email: string | null;
        name: string | null;
        role: Role;
        created_at: Date;
      }>(
        `SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.org_id = $1 ORDER BY m.created_at`,
        [org.id],
      );
      return {
        data: rows.map((row) => ({
          userId: row.user_id,
          email: row.email,
          name: row.name,
          role: row.role,
          joinedAt: row.created_at.toISOString(),
        })),
      };
    },
  });

  api.route({
    method: 'patch',
    path: '/v1/orgs/{orgId}/members/{userId}',
    summary: "Change a member's role (only an owner may grant or take away the owner role)",
    tags: ['members'],
    access: { kind: 'org', roles: adminRoles },
    params: memberParams,
    body: z.object({ role }).strict(),
    response: { status: 200, schema: z.object({ userId: z.uuid(), role }) },
    handler: async ({ deps, org, params, body, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        if (principal?.type !== 'user')
          throw forbidden('only a signed-in user can change roles; API keys cannot');
        const current = await lockMember(tx, org.id, params.userId);
        if ((current === 'owner' || body.role === 'owner') && org.role !== 'owner') {
          throw forbidden('only an owner may grant or take away the owner role');
        }
        if (current === 'owner' && body.role !== 'owner') await assertAnotherOwner(tx, org.id);
        await tx.query('UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2', [
          org.id,
          params.userId,
          body.role,
        ]);
        // a key may not outrank its creator: keys the new role could not have made stop working
        const revoked = await tx.query<{ id: string }>(
          `UPDATE api_keys SET revoked_at = now()
            WHERE org_id = $1 AND created_by = $2 AND revoked_at IS NULL
              AND ($3 IN ('billing', 'member') OR ($3 = 'admin' AND role = 'owner'))
            RETURNING id`,
          [org.id, params.userId, body.role],
        );
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'member.role_changed',
          targetType: 'user',
          targetId: params.userId,
          data: { from: current, to: body.role, revokedApiKeys: revoked.rows.map((row) => row.id) },
          requestId,
        });
        return { userId: params.userId, role: body.role };
      }),
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}/members/{userId}',
    summary: 'Remove a member from the organization (members may remove themselves)',
    tags: ['members'],
    access: { kind: 'org' },
    params: memberParams,
    response: { status: 204 },
    handler: async ({ deps, org, params, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        const self = principal?.type === 'user' && principal.userId === params.userId;
        if (!self && !adminRoles.includes(org.role))
          throw forbidden('only an owner or admin may remove another member');
        const current = await lockMember(tx, org.id, params.userId);
        if (current === 'owner' && org.role !== 'owner' && !self)
          throw forbidden('only an owner may remove an owner');
        if (current === 'owner') await assertAnotherOwner(tx, org.id);
        await tx.query('DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', [org.id, params.userId]);
        // the keys this member made for the organization stop working with their access
        await tx.query(
          'UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND created_by = $2 AND revoked_at IS NULL',
          [org.id, params.userId],
        );
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'member.removed',
          targetType: 'user',
          targetId: params.userId,
          data: { role: current },
          requestId,
        });
      }),
  });
}

async function lockMember(tx: Queryable, orgId: string, userId: string): Promise<Role> {
  const { rows } = await tx.query<{ role: Role }>(
    'SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE',
    [orgId, userId],
  );
  if (!rows[0]) throw notFound('member');
  return rows[0].role;
}

async function assertAnotherOwner(tx: Queryable, orgId: string): Promise<void> {
  const { rows } = await tx.query<{ owners: number }>(
    `SELECT count(*)::int AS owners FROM (SELECT 1 FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE) o`,
    [orgId],
  );
  if ((rows[0]?.owners ?? 0) < 2) throw conflict('an organization must keep at least one owner');
}
