import type { Db } from '../../db/pool.ts';
import { withTransaction } from '../../db/pool.ts';
import { conflict, forbidden, notFound } from '../../errors.ts';
import { soleOwnerOrgsSql } from '../../flows/definitions/delete-user.ts';
import { startFlow } from '../../flows/start.ts';
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

const me = z
  .object({
    id: z.uuid(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    /** E.164; password-reset notices go there by SMS. */
    phone: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('User');
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, such as +14155550123');
const deletion = z.object({ flowId: z.uuid(), userId: z.uuid() }).openapi('UserDeletion');

/** Starts the delete-user flow (once per user, however often it is asked for). */
async function startUserDeletion(db: Db, userId: string, requestedBy: 'self' | 'operator') {
  return withTransaction(db, async (tx) => {
    const user = await tx.query('SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [
      userId,
    ]);
    if (!user.rows[0]) throw notFound('user');
    const orphaned = await tx.query<{ id: string; name: string }>(soleOwnerOrgsSql, [userId]);
    if (orphaned.rows.length > 0) {
      throw conflict('the user is the only owner of organizations; transfer ownership or delete them first', {
        organizations: orphaned.rows,
      });
    }
    const flow = await startFlow(tx, {
      type: 'delete-user',
      context: { userId, requestedBy },
      dedupeKey: `delete-user:${userId}`,
    });
    return { flowId: flow.id, userId };
  });
}

export function registerUserRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/users/me',
    summary: 'The calling user',
    tags: ['users'],
    access: { kind: 'authenticated' },
    response: { status: 200, schema: me },
    handler: async ({ deps, principal }) => {
      if (principal?.type !== 'user') throw forbidden('an API key is not a user');
      const { rows } = await deps.db.query<{
        id: string;
        email: string | null;
        name: string | null;
        phone: string | null;
        created_at: Date;
      }>('SELECT id, email, name, phone, created_at FROM users WHERE id = $1', [principal.userId]);
      const row = rows[0]!;
      return {
        id: row.id,
        email: row.email,
        name: row.name,
        phone: row.phone,
        createdAt: row.created_at.toISOString(),
      };
    },
  });

  api.route({
    method: 'patch',
    path: '/v1/users/me',
    summary: 'Set or clear my phone number (E.164)',
    tags: ['users'],
    access: { kind: 'authenticated' },
    body: z.object({ phone: e164.nullable() }).strict(),
    response: { status: 200, schema: me },
    handler: async ({ deps, principal, body }) => {
      if (principal?.type !== 'user') throw forbidden('an API key is not a user');
      const { rows } = await deps.db.query<{
        id: string;
        email: string | null;
        name: string | null;
        phone: string | null;
        created_at: Date;
      }>('UPDATE users SET phone = $2 WHERE id = $1 RETURNING id, email, name, phone, created_at', [
        principal.userId,
        body.phone,
      ]);
      const row = rows[0]!;
      return {
        id: row.id,
        email: row.email,
        name: row.name,
        phone: row.phone,
        createdAt: row.created_at.toISOString(),
      };
    },
  });

  api.route({
    method: 'delete',
    path: '/v1/users/me',
    summary:
      'Delete my account: sessions and keys revoked, memberships removed, deleted at the auth provider, audit kept',
    tags: ['users'],
    access: { kind: 'authenticated' },
    response: { status: 202, schema: deletion },
    handler: async ({ deps, principal }) => {
      if (principal?.type !== 'user') throw forbidden('an API key cannot delete a user');
      return startUserDeletion(deps.db, principal.userId, 'self');
    },
  });

  api.route({
    method: 'delete',
    path: '/v1/admin/users/{userId}',
    summary: 'Delete a user (platform operator)',
    tags: ['admin'],
    access: { kind: 'admin' },
    params: z.object({ userId: z.uuid() }),
    response: { status: 202, schema: deletion },
    handler: async ({ deps, params }) => startUserDeletion(deps.db, params.userId, 'operator'),
  });
}
