import { randomBytes } from 'node:crypto';
import type { ManagementClient } from 'auth0';
import { recordAudit } from '../../audit.ts';
import { sha256Hex } from '../../auth/secrets.ts';
import type { DbClient, Queryable } from '../../db/pool.ts';
import { type EmailMessage, need, type Vendors } from '../../vendors/index.ts';
import {
  defineFlow,
  type FlowDefinition,
  PermanentStepError,
  type StepContext,
  type StepOutcome,
} from '../definition.ts';

export const inviteUserType = 'invite-user';
export const acceptInviteType = 'accept-invite';

export interface InviteUserContext extends Record<string, unknown> {
  invitationId: string;
  /** Set when the invitation was accepted, revoked or expired before its email went out: nothing more to do. */
  skipped?: string;
  authOrganizationId?: string;
  authInvitationId?: string;
  /** Fixed at the first wait for the email provider (flow clock): past it, the step fails. */
  emailDeadline?: string;
}

export interface AcceptInviteContext extends Record<string, unknown> {
  invitationId: string;
  /** The member the acceptance made. */
  userId: string;
  emailDeadline?: string;
}

export interface InvitationFlowOptions {
  /** Read at each step, so a vendor configured (or replaced by a test) later is the one used. */
  vendors: Vendors;
  /** The customer-facing app: the link is `${appUrl}/invitations/accept?token=…`. */
  appUrl: string;
  /** The application invitees sign in to, which an Auth0 organization invitation names. */
  authClientId: string | undefined;
}

interface InvitationRow {
  id: string;
  org_id: string;
  org_name: string;
  email: string;
  role: string;
  status: string;
  expired: boolean;
  expires_at: Date;
  inviter: string | null;
  auth_invitation_id: string | null;
}

async function loadInvitation(db: Queryable, id: string, lock = ''): Promise<InvitationRow | undefined> {
  const { rows } = await db.query<InvitationRow>(
    `SELECT i.id, i.org_id, o.name AS org_name, i.email, i.role, i.status, i.expires_at,
            i.expires_at <= clock_now() AS expired, i.auth_invitation_id,
            COALESCE(u.name, u.email) AS inviter
       FROM invitations i JOIN organizations o ON o.id = i.org_id AND o.deleted_at IS NULL
       LEFT JOIN users u ON u.id = i.invited_by
      WHERE i.id = $1 ${lock}`,
    [id],
  );
  return rows[0];
}

/** Why an invitation needs nothing more, or undefined while it is pending. */
const finished = (invitation: InvitationRow | undefined) =>
  !invitation
    ? 'the invitation or its organization is gone'
    : invitation.status !== 'pending'
      ? `the invitation was ${invitation.status}`
      : invitation.expired
        ? 'the invitation expired'
        : undefined;

/** The HTTP status of a vendor SDK's error (auth0: statusCode; SendGrid: a numeric code). */
function statusOf(error: unknown): number | undefined {
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * When a vendor answered "not now" (429 or 5xx: an outage, throttling), how long to wait before
 * trying again, from its Retry-After when it gave one; undefined for any other failure.
 */
export function retryLaterMs(error: unknown, attempt: number): number | undefined {
  const status = statusOf(error);
  if (status === undefined || (status !== 429 && status < 500)) return undefined;
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers ?? {};
  const seconds = Number(headers['retry-after']);
  const wanted = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 250 * 2 ** Math.min(attempt, 8);
  return Math.min(60_000, Math.max(100, wanted));
}

/** What `sendEmailOnce`'s `prepare` gives: the message, and what a recovery needs of this attempt. */
export interface PreparedEmail extends Omit<EmailMessage, 'idempotencyKey'> {
  /**
   * Committed with the attempt marker before the send (so never a credential; a hash is fine):
   * handed to `recovered` should a retry find that the vendor took this attempt's message.
   */
  note?: Record<string, unknown>;
}

/** The attempt marker of an email send: committed before the vendor call. */
interface EmailAttempt {
  to: string;
  note?: Record<string, unknown>;
}

/**
 * Sends one email exactly once across retries, as far as SendGrid lets us know. SendGrid has no
 * idempotency keys, so the send runs inside the `once` transaction that records it: a failed POST
 * rolls the record back and the retry sends again; a POST that succeeded commits with its record,
 * and no retry sends it again. Before the POST an attempt marker (`<key>:attempt`: recipient and
 * the message's `note`) is committed on a connection of its own. A retry that finds the marker
 * without the record (the process was killed, or the database connection dropped, between the 202
 * and the commit; or the 202 was lost to a timeout) looks the message up in SendGrid's Email
 * Activity Feed by the idempotency key it carries in its custom args, and to its recipient: when
 * SendGrid has it, the retry records it (and `recovered` restores what that attempt's transaction
 * wrote, from the note) instead of sending a second copy. What remains: the activity feed is
 * eventually consistent at real SendGrid (seconds to minutes behind a send) and allows 6 requests
 * a minute, so a retry soon after the crash can miss the message and send a second copy; the
 * transaction holds a pool connection (and `prepare`'s locks) for at most two vendor calls.
 * `prepare` runs first in that transaction (it may write, and may decide not to send).
 * A provider outage or throttling makes the step wait (Retry-After) instead of spending attempts,
 * for up to `maxWaitMs` on the flow clock; after that the failure counts as any other.
 */
export async function sendEmailOnce<C extends Record<string, unknown> & { emailDeadline?: string }>(
  ctx: StepContext<C>,
  vendors: Vendors,
  name: string,
  prepare: (tx: DbClient) => Promise<PreparedEmail | undefined>,
  maxWaitMs = 24 * 3600_000,
  recovered?: (tx: DbClient, note: Record<string, unknown>) => Promise<void>,
): Promise<StepOutcome<C> | undefined> {
  const email = need(vendors, 'email');
  try {
    await ctx.once(name, async (tx, key) => {
      const prepared = await prepare(tx);
      if (!prepared) return { sent: false };
      const { note, ...message } = prepared;
      const attemptKey = `${key}:attempt`;
      // a marker committed by an earlier attempt is visible in `tx` (read committed)
      const previous = await tx.query<{ result: EmailAttempt }>(
        'SELECT result FROM flow_effects WHERE key = $1',
        [attemptKey],
      );
      const attempt = previous.rows[0]?.result;
      if (attempt) {
        // an attempt whose outcome is unknown: SendGrid may have its message already
        const found = await email.findSent(key, attempt.to);
        if (found) {
          ctx.logger.warn(
            { effect: name },
            'SendGrid already had the email of an unconfirmed attempt: not sent again',
          );
          await recovered?.(tx, attempt.note ?? {});
          return { sent: true, to: attempt.to, found: found.id };
        }
      }
      // committed at once (not in `tx`): it must survive a crash during the send
      await ctx.db.query(
        `INSERT INTO flow_effects (key, flow_id, step, result) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET result = excluded.result`,
        [attemptKey, ctx.flowId, ctx.step, JSON.stringify({ to: message.to, ...(note ? { note } : {}) })],
      );
      try {
        await email.send({ ...message, idempotencyKey: key });
      } catch (error) {
        // SendGrid answered (4xx, 5xx): it did not take the message, so the outcome is known
        if (statusOf(error) !== undefined)
          await ctx.db.query('DELETE FROM flow_effects WHERE key = $1', [attemptKey]);
        throw error;
      }
      return { sent: true, to: message.to };
    });
    return undefined;
  } catch (error) {
    const waitMs = retryLaterMs(error, ctx.attempt);
    if (waitMs === undefined) throw error;
    const now = (await ctx.now()).getTime();
    const deadline = ctx.context.emailDeadline ? Date.parse(ctx.context.emailDeadline) : now + maxWaitMs;
    if (now >= deadline) throw error;
    ctx.logger.warn(
      { status: statusOf(error), waitMs },
      'the email provider answered "not now": the step waits, then sends',
    );
    return {
      context: { emailDeadline: new Date(deadline).toISOString() } as Partial<C>,
      wait: { until: new Date(Math.min(deadline, now + waitMs)) },
    };
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The organization's twin at the auth provider (`pw-<org id>`), made on first use. */
async function ensureAuthOrganization(auth: ManagementClient, org: { id: string; name: string }) {
  const name = `pw-${org.id}`;
  const byName = async () => (await auth.organizations.getByName(name)).id!;
  try {
    return await byName();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  try {
    const created = await auth.organizations.create({
      name,
      display_name: org.name.slice(0, 255),
      metadata: { planewright_org_id: org.id },
    });
    return created.id!;
  } catch (error) {
    // made meanwhile by another invitation of the same organization
    if (statusOf(error) !== 409) throw error;
    return byName();
  }
}

/** The auth provider's invitation for ours: found by its metadata, so a retry never makes a second. */
async function ensureAuthInvitation(
  auth: ManagementClient,
  authOrganizationId: string,
  invitation: InvitationRow,
  clientId: string,
  now: Date,
): Promise<string> {
  const page = await auth.organizations.invitations.list(authOrganizationId, { per_page: 100 });
  for await (const existing of page) {
    if (existing.app_metadata?.planewright_invitation_id === invitation.id && existing.id) return existing.id;
  }
  const ttlSec = Math.ceil((invitation.expires_at.getTime() - now.getTime()) / 1000);
  const created = await auth.organizations.invitations.create(authOrganizationId, {
    inviter: { name: invitation.inviter ?? 'Planewright' },
    invitee: { email: invitation.email },
    client_id: clientId,
    // Auth0 allows 1 s to 30 days
    ttl_sec: Math.min(2_592_000, Math.max(1, ttlSec)),
    // the control plane sends its own email, with its own one-time link
    send_invitation_email: false,
    app_metadata: { planewright_invitation_id: invitation.id, planewright_role: invitation.role },
  });
  return created.id!;
}

/**
 * Invite user, started in the transaction that creates the invitation: the invitation at the auth
 * provider (an Auth0 organization invitation, without Auth0's own email), then ONE email with a
 * one-time link. The token exists only in that email: the step makes it and stores its hash in
 * the transaction that records the send.
 */
export function inviteUserFlow(options: InvitationFlowOptions): FlowDefinition<InviteUserContext> {
  const { vendors } = options;
  return defineFlow<InviteUserContext>({
    type: inviteUserType,
    steps: [
      {
        name: 'auth-invitation',
        async run({ db, context, logger, now }) {
          const invitation = await loadInvitation(db, context.invitationId);
          const skipped = finished(invitation);
          if (skipped) return { context: { skipped } };
          const auth = vendors.auth;
          if (!auth) {
            logger.warn('the auth provider Management API is not configured: no invitation made there');
            return;
          }
          if (!options.authClientId)
            throw new PermanentStepError('set AUTH_APP_CLIENT_ID: the application invitees sign in to');
          const authOrganizationId = await ensureAuthOrganization(auth, {
            id: invitation!.org_id,
            name: invitation!.org_name,
          });
          const authInvitationId =
            invitation!.auth_invitation_id ??
            (await ensureAuthInvitation(
              auth,
              authOrganizationId,
              invitation!,
              options.authClientId,
              await now(),
            ));
          await db.query('UPDATE invitations SET auth_invitation_id = $2 WHERE id = $1', [
            context.invitationId,
            authInvitationId,
          ]);
          return { context: { authOrganizationId, authInvitationId } };
        },
      },
      {
        name: 'send-email',
        async run(ctx) {
          if (ctx.context.skipped) return;
          return sendEmailOnce(
            ctx,
            vendors,
            'invitation-email',
            async (tx) => {
              // locked: a revocation or acceptance waits for the send, then sees it
              const invitation = await loadInvitation(tx, ctx.context.invitationId, 'FOR UPDATE OF i');
              if (finished(invitation)) return undefined;
              // a new token on every attempt: should an attempt's email be sent twice after all (see
              // sendEmailOnce), only the last link sent works; when a retry finds that an attempt's
              // email went out, `recovered` puts that attempt's token hash back
              const token = `pwinv_${randomBytes(32).toString('base64url')}`;
              await tx.query('UPDATE invitations SET token_hash = $2, emailed_at = now() WHERE id = $1', [
                invitation!.id,
                sha256Hex(token),
              ]);
              const link = `${options.appUrl.replace(/\/$/, '')}/invitations/accept?token=${token}`;
              const who = invitation!.inviter ?? 'Someone';
              const org = invitation!.org_name;
              const until = invitation!.expires_at.toISOString();
              return {
                to: invitation!.email,
                subject: `${who} invited you to ${org} on Planewright`,
                text: `${who} invited you to join ${org} as ${invitation!.role}.\n\nAccept the invitation: ${link}\n\nThe link works once, until ${until}.`,
                html: `<p>${escapeHtml(who)} invited you to join <b>${escapeHtml(org)}</b> as ${invitation!.role}.</p><p><a href="${link}">Accept the invitation</a></p><p>The link works once, until ${until}.</p>`,
                category: 'invitation',
                note: { tokenHash: sha256Hex(token) },
              };
            },
            undefined,
            async (tx, note) => {
              if (typeof note.tokenHash !== 'string') return;
              await tx.query('UPDATE invitations SET token_hash = $2 WHERE id = $1', [
                ctx.context.invitationId,
                note.tokenHash,
              ]);
            },
          );
        },
      },
    ],
  });
}

/**
 * Accept invite, started in the transaction that made the membership: the new member joins the
 * organization's twin at the auth provider (whose invitation is then spent), and every owner and
 * admin gets an email saying who joined.
 */
export function acceptInviteFlow(options: InvitationFlowOptions): FlowDefinition<AcceptInviteContext> {
  const { vendors } = options;
  return defineFlow<AcceptInviteContext>({
    type: acceptInviteType,
    steps: [
      {
        name: 'auth-membership',
        async run({ db, context, logger }) {
          const auth = vendors.auth;
          if (!auth) {
            logger.warn('the auth provider Management API is not configured: no membership made there');
            return;
          }
          const { rows } = await db.query<{
            subject: string;
            org_id: string;
            org_name: string;
            auth: string;
          }>(
            `SELECT u.subject, o.id AS org_id, o.name AS org_name, i.auth_invitation_id AS auth
               FROM invitations i JOIN organizations o ON o.id = i.org_id JOIN users u ON u.id = $2
              WHERE i.id = $1`,
            [context.invitationId, context.userId],
          );
          const row = rows[0];
          if (!row) return;
          const organization = await ensureAuthOrganization(auth, { id: row.org_id, name: row.org_name });
          try {
            // adding a member twice is a no-op at Auth0
            await auth.organizations.members.create(organization, { members: [row.subject] });
          } catch (error) {
            // a user the provider does not know (deleted meanwhile): nothing to join
            if (statusOf(error) !== 404) throw error;
            logger.warn({ subject: row.subject }, 'the auth provider does not know the new member');
          }
          if (row.auth) {
            try {
              await auth.organizations.invitations.delete(organization, row.auth);
            } catch (error) {
              if (statusOf(error) !== 404) throw error;
            }
          }
        },
      },
      {
        name: 'notify-admins',
        async run(ctx) {
          const { rows } = await ctx.db.query<{ id: string; email: string; org_name: string }>(
            `SELECT u.id, u.email, o.name AS org_name
               FROM invitations i JOIN organizations o ON o.id = i.org_id
               JOIN memberships m ON m.org_id = i.org_id AND m.role IN ('owner', 'admin')
               JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL AND u.email IS NOT NULL
              WHERE i.id = $1 AND u.id <> $2 ORDER BY u.id`,
            [ctx.context.invitationId, ctx.context.userId],
          );
          const joined = await ctx.db.query<{ who: string; role: string }>(
            `SELECT COALESCE(u.name, u.email, 'A new member') AS who, i.role
               FROM invitations i, users u WHERE i.id = $1 AND u.id = $2`,
            [ctx.context.invitationId, ctx.context.userId],
          );
          const { who, role } = joined.rows[0] ?? { who: 'A new member', role: 'member' };
          for (const admin of rows) {
            // one email per admin, each recorded on its own: a retry sends only the missing ones
            const outcome = await sendEmailOnce(ctx, vendors, `admin-email:${admin.id}`, async () => ({
              to: admin.email,
              subject: `${who} joined ${admin.org_name}`,
              text: `${who} accepted an invitation and joined ${admin.org_name} as ${role}.`,
              category: 'member-joined',
            }));
            if (outcome) return outcome;
          }
          await ctx.once('audit', async (tx) => {
            await recordAudit(
              tx,
              { type: 'flow', flowId: ctx.flowId },
              {
                orgId: ctx.orgId,
                action: 'invitation.admins_notified',
                targetType: 'invitation',
                targetId: ctx.context.invitationId,
                data: { recipients: rows.length },
              },
            );
          });
        },
      },
    ],
  });
}
