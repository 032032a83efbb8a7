import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import { ApiError, unauthorized } from '../errors.ts';
import type { Principal, Role } from './principal.ts';
import { apiKeyMatches, apiKeyPrefix, secretsEqual } from './secrets.ts';

declare global {
  namespace Express {
    interface Request {
      principal?: Principal;
      /** A data-plane agent's credential (`pwa_…`): checked only by the /v1/agent routes. */
      agentToken?: string;
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
    if (deps.config.ADMIN_TOKEN && secretsEqual(token, deps.config.ADMIN_TOKEN))
      req.principal = { type: 'operator' };
    // an agent is not a principal: its credential opens the agent routes only (see route.ts)
    else if (token.startsWith('pwa_')) req.agentToken = token;
    else
      req.principal = token.startsWith('pw_') ? await fromApiKey(deps.db, token) : await fromJwt(deps, token);
    next();
  };
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
    stale_use: boolean;
  }>(
    `SELECT k.id, k.org_id, k.role, k.created_by, k.secret_hash,
            (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS stale_use
       FROM api_keys k JOIN organizations o ON o.id = k.org_id AND o.deleted_at IS NULL
      WHERE k.prefix = $1 AND k.revoked_at IS NULL AND k.activated_at IS NOT NULL`,
    [prefix],
  );
  const row = rows[0];
  // verified before anything is written: knowing a prefix must not be enough to touch the row
  if (!row || !apiKeyMatches(key, row.secret_hash)) throw unauthorized('the API key is invalid or revoked');
  // a write per request would make every call cost one; a minute's precision is enough here
  if (row.stale_use) await db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
  return { type: 'api_key', keyId: row.id, orgId: row.org_id, role: row.role, createdBy: row.created_by };
}

async function fromJwt(
  deps: { db: Db; config: Config; jwks: JWTVerifyGetKey },
  token: string,
): Promise<Principal> {
  let payload: { sub?: string; email?: unknown; name?: unknown; iat?: number };
  try {
    ({ payload } = await jwtVerify(token, deps.jwks, {
      issuer: deps.config.AUTH_ISSUER,
      audience: deps.config.AUTH_AUDIENCE,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthorized('the token has expired');
    // the provider's keys could not be read: the token may be fine, so the client must not drop it
    if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) {
      throw new ApiError(
        503,
        'auth_unavailable',
        "the auth provider's signing keys could not be fetched; retry shortly",
      );
    }
    throw unauthorized(`the token is invalid (${error.code})`);
  }
  if (!payload.sub) throw unauthorized('the token has no subject');
  // Postgres text cannot hold NUL: such a claim is a malformed token, not our failure
  if (
    [payload.sub, payload.email, payload.name].some(
      (claim) => typeof claim === 'string' && claim.includes('\u0000'),
    )
  ) {
    throw unauthorized('the token has a claim with a NUL character');
  }
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
