// Every /api/v2 request needs a Management API token: a JWT this tenant signed for `<url>/api/v2/`
// with the scope the endpoint asks for. Failures read as Auth0's: 401 with the reason in `message`
// (and in `attributes.error`, where Auth0 repeats it), 403 insufficient_scope.
import type { NextFunction, Request, Response } from 'express';
import type { AuthDeps } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { TokenRejected } from '../jwt.ts';

/** The middleware mounted in front of the Management API; it leaves the token's scopes in res.locals. */
export function requireManagementToken(deps: AuthDeps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const fail = (error: ManagementError) => res.status(error.status).json(error.toBody());
    if (!header) return fail(new ManagementError(401, 'Missing authentication'));
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) return fail(new ManagementError(400, 'Bad HTTP authentication header format', 'Bearer'));
    try {
      const payload = await deps.jwt.verify(token, deps.managementAudience());
      res.locals.scopes = String(payload.scope ?? '').split(' ');
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      return fail(new ManagementError(401, error.message, undefined, { error: error.message }));
    }
    next();
  };
}

/** Throws Auth0's 403 unless the request's token carries one of `scopes`. */
export function requireScope(res: Response, ...scopes: string[]): void {
  const held = (res.locals.scopes as string[] | undefined) ?? [];
  if (!scopes.some((scope) => held.includes(scope))) {
    throw new ManagementError(
      403,
      `Insufficient scope, expected any of: ${scopes.join(',')}`,
      'insufficient_scope',
    );
  }
}
