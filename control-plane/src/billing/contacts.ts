// Who hears about an organization's billing: its owners and its billing admins, never plain members
// or admins (they cannot act on a card). Each email goes out once per flow step and recipient.
import type { Queryable } from '../db/pool.ts';
import type { StepContext, StepOutcome } from '../flows/definition.ts';
import { sendEmailOnce } from '../flows/definitions/invite-user.ts';
import type { EmailMessage, Vendors } from '../vendors/index.ts';

export const billingContactRoles = ['owner', 'billing'] as const;

export interface BillingContact {
  userId: string;
  email: string;
  name: string | null;
  role: string;
}

/** The organization's owners and billing admins with an email address, oldest membership first. */
export async function billingContacts(db: Queryable, orgId: string): Promise<BillingContact[]> {
  const { rows } = await db.query<{ user_id: string; email: string; name: string | null; role: string }>(
    `SELECT u.id AS user_id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1 AND m.role = ANY($2) AND u.deleted_at IS NULL AND u.email IS NOT NULL
      ORDER BY m.created_at, u.id`,
    [orgId, billingContactRoles],
  );
  return rows.map((row) => ({ userId: row.user_id, email: row.email, name: row.name, role: row.role }));
}

/**
 * Emails each billing contact once: each send and the record that it happened commit together
 * (`sendEmailOnce` per recipient), so a retry sends only what is still unsent; while the provider
 * says "not now" (an outage, a throttle) the step waits for as long as it asks, then goes on.
 */
export async function emailBillingContacts<C extends Record<string, unknown> & { emailDeadline?: string }>(
  ctx: StepContext<C>,
  vendors: Vendors,
  orgId: string,
  message: (contact: BillingContact) => Omit<EmailMessage, 'to' | 'idempotencyKey'>,
): Promise<StepOutcome<C> | undefined> {
  for (const contact of await billingContacts(ctx.db, orgId)) {
    const waiting = await sendEmailOnce(ctx, vendors, `email:${contact.userId}`, async () => ({
      ...message(contact),
      to: contact.email,
    }));
    if (waiting) return waiting;
  }
  return undefined;
}
