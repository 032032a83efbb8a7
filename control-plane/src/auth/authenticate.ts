import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import { unauthorized } from '../errors.ts';
import { apiKeyMatches, apiKeyPrefix } from './api-key-secret.ts';
import type { Principal, Role } from './principal.ts';

declare global {
  namespace Express {
    interface Request {
      principal?: Principal;
      requestId: string;
    }
  }
}

export function createJwksKeyGetter(config: Config): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
    timeoutDuration: 5_000,
    cooldownDuration: 30_000,
  });
}

/**
 * Resolves `Authorization: Bearer …` into `req.principal`: an API key (`pw_…`) or a user JWT
 * verified against the auth provider's JWKS. A missing header leaves the request anonymous;
 * a present but invalid one is answered 401 at once.
 */
export function authenticate(deps: { db: Db; config: Config; jwks: JWTVerifyGetKey }) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('the Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    if (deps.config.ADMIN_TOKEN && secretEquals(token, deps.config.ADMIN_TOKEN))
      req.principal = { type: 'operator' };
    else
      req.principal = token.startsWith('pw_') ? await fromApiKey(deps.db, token) : await fromJwt(deps, token);
    next();
  };
}

function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function fromApiKey(db: Db, key: string): Promise<Principal> {
  const prefix = apiKeyPrefix(key);
  if (!prefix) throw unauthorized('malformed API key');
  const { rows } = await db.query<{
    id: string;
    org_id: string;
    role: Role;
    created_by: string | null;
    secret_hash: string;
  }>(
    `UPDATE api_keys SET last_used_at = now()
      WHERE prefix = $1 AND revoked_at IS NULL AND activated_at IS NOT NULL
        AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = org_id AND o.deleted_at IS NULL)
      RETURNING id, org_id, role, created_by, secret_hash`,
    [prefix],
  );
  const row = rows[0];
  if (!row || !apiKeyMatches(key, row.secret_hash)) throw unauthorized('the API key is invalid or revoked');
  return { type: 'api_key', keyId: row.id, orgId: row.org_id, role: row.role, createdBy: row.created_by };
}

async function fromJwt(
  deps: { db: Db; config: Config; jwks: JWTVerifyGetKey },
  token: string,
): Promise<Principal> {
  let payload: { sub?: string; email?: unknown; name?: unknown; iat?: number };
  try {
    ({ payload } = await jwtVerify(token, deps.jwks, {
      ...(deps.config.AUTH_ISSUER ? { issuer: deps.config.AUTH_ISSUER } : {}),
      ...(deps.config.AUTH_AUDIENCE ? { audience: deps.config.AUTH_AUDIENCE } : {}),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthorized('the token has expired');
    if (error instanceof joseErrors.JOSEError) throw unauthorized(`the token is invalid (${error.code})`);
    throw error;
  }
  if (!payload.sub) throw unauthorized('the token has no subject');
  const email = typeof payload.email === 'string' ? payload.email : null;
  const name = typeof payload.name === 'string' ? payload.name : null;
  type UserRow = { id: string; deleted_at: Date | null; sessions_revoked_before: Date | null };
  // most requests come from known users: read first, write only for a new one
  let { rows } = await deps.db.query<UserRow>(
    'SELECT id, deleted_at, sessions_revoked_before FROM users WHERE subject = $1',
    [payload.sub],
  );
  if (!rows[0]) {
    ({ rows } = await deps.db.query<UserRow>(
      `INSERT INTO users (subject, email, name) VALUES ($1, $2, $3)
       ON CONFLICT (subject) DO UPDATE SET email = COALESCE(EXCLUDED.email, users.email)
       RETURNING id, deleted_at, sessions_revoked_before`,
      [payload.sub, email, name],
    ));
  }
  const user = rows[0]!;
  if (user.deleted_at) throw unauthorized('this user has been deleted');
  const issuedAtMs = (payload.iat ?? 0) * 1000;
  if (user.sessions_revoked_before && issuedAtMs < user.sessions_revoked_before.getTime()) {
    throw unauthorized('this session has been revoked; sign in again');
  }
  return { type: 'user', userId: user.id, subject: payload.sub, email };
}
