import { randomBytes } from 'node:crypto';
import { recordAudit } from '../../audit.ts';
import { adminRoles, type Role } from '../../auth/principal.ts';
import { sha256Hex } from '../../auth/secrets.ts';
import { type Queryable, withTransaction } from '../../db/pool.ts';
import { badRequest, conflict, forbidden, gone, notFound } from '../../errors.ts';
import { acceptInviteType, inviteUserType } from '../../flows/definitions/invite-user.ts';
import { startFlow } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { orgParams, role, z } from '../zod.ts';

const invitationStatus = z.enum(['pending', 'accepted', 'revoked', 'expired']);
const invitation = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role,
    status: invitationStatus.describe('expired: still pending, but past expiresAt'),
    invitedBy: z.uuid().nullable(),
    expiresAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    acceptedAt: z.iso.datetime().nullable(),
    acceptedBy: z.uuid().nullable(),
    emailedAt: z.iso
      .datetime()
      .nullable()
      .describe('When the invite-user flow emailed the one-time link (null until then)'),
  })
  .openapi('Invitation');
const createdInvitation = invitation
  .extend({
    flowId: z
      .uuid()
      .describe(
        'The invite-user flow: it creates the invitation at the auth provider and emails the invitee a one-time link, which exists only in that email',
      ),
  })
  .openapi('CreatedInvitation');

interface InvitationRow {
  id: string;
  org_id: string;
  email: string;
  role: Role;
  status: z.output<typeof invitationStatus>;
  invited_by: string | null;
  expires_at: Date;
  created_at: Date;
  accepted_at: Date | null;
  accepted_by: string | null;
  emailed_at: Date | null;
}
// a pending invitation past its expiry reads as expired; the clock is the SQL one tests can move
const columns = `id, org_id, email, role, invited_by, expires_at, created_at, accepted_at, accepted_by, emailed_at,
  CASE WHEN status = 'pending' AND expires_at <= clock_now() THEN 'expired' ELSE status END AS status`;
const toInvitation = (row: InvitationRow) => ({
  id: row.id,
  email: row.email,
  role: row.role,
  status: row.status,
  invitedBy: row.invited_by,
  expiresAt: row.expires_at.toISOString(),
  createdAt: row.created_at.toISOString(),
  acceptedAt: row.accepted_at?.toISOString() ?? null,
  acceptedBy: row.accepted_by,
  emailedAt: row.emailed_at?.toISOString() ?? null,
});

const acceptPath = '/v1/invitations/accept';
const invitationParams = orgParams.extend({ invitationId: z.uuid() });
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional().describe('The id of the last invitation of the previous page'),
});

async function isMember(db: Queryable, orgId: string, email: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1 AND lower(u.email) = lower($2) AND u.deleted_at IS NULL`,
    [orgId, email],
  );
  return (rowCount ?? 0) > 0;
}

export function registerInvitationRoutes(api: Api): void {
  api.route({
    method: 'post',
    path: '/v1/orgs/{orgId}/invitations',
    summary:
      'Invite someone by email (only an owner may invite an owner); the invite-user flow emails them a one-time link',
    tags: ['invitations'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    body: z.object({ email: z.email().max(320), role }).strict(),
    response: { status: 201, schema: createdInvitation },
    handler: async ({ deps, org, body, principal, requestId }) => {
      // a leaked key must not be able to bring in a new member, who could then mint keys
      if (principal?.type !== 'user') throw forbidden('only a signed-in user can invite; API keys cannot');
      if (body.role === 'owner' && org.role !== 'owner') throw forbidden('only an owner may invite an owner');
      // no token matches this hash: the invite-user flow stores the hash of the token it emails
      const unusable = sha256Hex(`unsent:${randomBytes(32).toString('base64url')}`);
      return withTransaction(deps.db, async (tx) => {
        if (await isMember(tx, org.id, body.email)) throw conflict(`${body.email} is already a member`);
        // an expired invitation can never be accepted; it must not block inviting the person again
        await tx.query(
          `UPDATE invitations SET status = 'revoked'
            WHERE org_id = $1 AND lower(email) = lower($2) AND status = 'pending' AND expires_at <= clock_now()`,
          [org.id, body.email],
        );
        const { rows } = await tx.query<InvitationRow>(
          `INSERT INTO invitations (org_id, email, role, token_hash, invited_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, clock_now() + make_interval(secs => $6 * 3600.0))
           ON CONFLICT DO NOTHING RETURNING ${columns}`,
          [
            org.id,
            body.email,
            body.role,
            unusable,
            principal?.type === 'user' ? principal.userId : null,
            deps.config.INVITATION_TTL_HOURS,
          ],
        );
        if (!rows[0])
          throw conflict(`${body.email} already has a pending invitation; revoke it to invite again`);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'invitation.created',
          targetType: 'invitation',
          targetId: rows[0].id,
          data: { email: body.email, role: body.role },
          requestId,
        });
        const flow = await startFlow(tx, {
          type: inviteUserType,
          orgId: org.id,
          context: { invitationId: rows[0].id },
          dedupeKey: `${inviteUserType}:${rows[0].id}`,
        });
        return { ...toInvitation(rows[0]), flowId: flow.id };
      });
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orgs/{orgId}/invitations',
    summary: 'List invitations, newest first (never their tokens)',
    tags: ['invitations'],
    access: { kind: 'org', roles: adminRoles },
    params: orgParams,
    query: listQuery,
    response: {
      status: 200,
      schema: z.object({ data: z.array(invitation), nextCursor: z.uuid().nullable() }),
    },
    handler: async ({ deps, org, query }) => {
      const { rows } = await deps.db.query<InvitationRow>(
        `WITH after AS (SELECT created_at, id FROM invitations WHERE id = $2 AND org_id = $1)
         SELECT ${columns} FROM invitations
          WHERE org_id = $1 AND ($2::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM after))
          ORDER BY created_at DESC, id DESC LIMIT $3`,
        [org.id, query.cursor ?? null, query.limit],
      );
      if (query.cursor && rows.length === 0) {
        const known = await deps.db.query('SELECT 1 FROM invitations WHERE id = $1 AND org_id = $2', [
          query.cursor,
          org.id,
        ]);
        if (!known.rowCount) throw badRequest('the cursor is not an invitation of this organization');
      }
      const next = rows.length === query.limit ? rows.at(-1)!.id : null;
      return { data: rows.map(toInvitation), nextCursor: next };
    },
  });

  api.route({
    method: 'delete',
    path: '/v1/orgs/{orgId}/invitations/{invitationId}',
    summary: 'Revoke a pending invitation (409 when it was already accepted or revoked)',
    tags: ['invitations'],
    access: { kind: 'org', roles: adminRoles },
    params: invitationParams,
    response: { status: 204 },
    handler: async ({ deps, org, params, principal, requestId }) =>
      withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<{ status: string; email: string }>(
          'SELECT status, email FROM invitations WHERE id = $1 AND org_id = $2 FOR UPDATE',
          [params.invitationId, org.id],
        );
        if (!rows[0]) throw notFound('invitation');
        if (rows[0].status !== 'pending') throw conflict(`the invitation is already ${rows[0].status}`);
        await tx.query(`UPDATE invitations SET status = 'revoked' WHERE id = $1`, [params.invitationId]);
        await recordAudit(tx, principal, {
          orgId: org.id,
          action: 'invitation.revoked',
          targetType: 'invitation',
          targetId: params.invitationId,
          data: { email: rows[0].email },
          requestId,
        });
      }),
  });

  api.route({
    method: 'post',
    path: acceptPath,
    summary: 'Accept an invitation with its one-time token; the caller joins with the invited role',
    tags: ['invitations'],
    access: { kind: 'authenticated' },
    body: z.object({ token: z.string().min(1).max(200) }).strict(),
    response: {
      status: 200,
      schema: z
        .object({
          orgId: z.uuid(),
          role,
          invitationId: z.uuid(),
          flowId: z
            .uuid()
            .describe("The accept-invite flow: the auth provider's membership, the admins' emails"),
        })
        .openapi('InvitationAcceptance'),
    },
    handler: async ({ deps, body, principal, requestId }) => {
      if (principal?.type !== 'user') throw forbidden('only a signed-in user can accept an invitation');
      return withTransaction(deps.db, async (tx) => {
        // the row lock makes a second, concurrent accept wait, then see the invitation accepted
        const { rows } = await tx.query<InvitationRow & { expired: boolean }>(
          `SELECT i.id, i.org_id, i.email, i.role, i.status, i.expires_at <= clock_now() AS expired
             FROM invitations i JOIN organizations o ON o.id = i.org_id
            WHERE i.token_hash = $1 AND o.deleted_at IS NULL
            FOR UPDATE OF i`,
          [sha256Hex(body.token)],
        );
        const found = rows[0];
        if (!found) throw notFound('invitation');
        if (found.status !== 'pending') throw conflict(`the invitation was already ${found.status}`);
        if (found.expired) throw gone('the invitation has expired; ask for a new one');
        if (principal.email?.toLowerCase() !== found.email.toLowerCase())
          throw forbidden('the invitation was sent to another email address; sign in with that one');
        const joined = await tx.query(
          'INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [found.org_id, principal.userId, found.role],
        );
        if (!joined.rowCount) throw conflict('you are already a member of this organization');
        await tx.query(
          `UPDATE invitations SET status = 'accepted', accepted_at = now(), accepted_by = $2 WHERE id = $1`,
          [found.id, principal.userId],
        );
        await recordAudit(tx, principal, {
          orgId: found.org_id,
          action: 'invitation.accepted',
          targetType: 'invitation',
          targetId: found.id,
          data: { email: found.email, role: found.role, userId: principal.userId },
          requestId,
        });
        const flow = await startFlow(tx, {
          type: acceptInviteType,
          orgId: found.org_id,
          context: { invitationId: found.id, userId: principal.userId },
          dedupeKey: `${acceptInviteType}:${found.id}`,
        });
        return { orgId: found.org_id, role: found.role, invitationId: found.id, flowId: flow.id };
      });
    },
  });
}
