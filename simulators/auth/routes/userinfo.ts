// GET /userinfo: the profile of the user an access token was issued to, limited by its scopes.
// A bad token is refused as an OAuth-protected resource does (RFC 6750): 401 with a
// WWW-Authenticate challenge, which openid-client reads.
import type { Router } from 'express';
import { profileClaims, userClaims } from '../claims.ts';
import type { AuthDeps } from '../deps.ts';
import { OAuthError } from '../errors.ts';
import { bearerToken, route } from '../http.ts';
import { TokenRejected } from '../jwt.ts';

const challenge = (description: string) =>
  new OAuthError(401, 'invalid_token', description, {
    'www-authenticate': `Bearer realm="userinfo", error="invalid_token", error_description="${description}"`,
  });

export function installUserinfo(router: Router, deps: AuthDeps): void {
  router.get(
    '/userinfo',
    route(async (req, res) => {
      const token = bearerToken(req);
      if (!token) throw challenge('Missing access token');
      let payload: Awaited<ReturnType<typeof deps.jwt.verify>>;
      try {
        payload = await deps.jwt.verify(token, `${deps.jwt.issuer}userinfo`);
      } catch (error) {
        if (error instanceof TokenRejected) throw challenge(error.message);
        throw error;
      }
      const user = deps.state.users.get(String(payload.sub));
      if (!user) throw challenge('The user no longer exists');
      const scope = String(payload.scope ?? '').split(' ');
      const organization =
        typeof payload.org_id === 'string' ? deps.state.organizations.get(payload.org_id) : undefined;
      res.json({
        sub: user.user_id,
        ...profileClaims(user, scope),
        ...userClaims(deps.config, { user, organization }),
      });
    }),
  );
}
