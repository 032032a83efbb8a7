// POST /oauth/token: Auth0's token endpoint. Bodies may be a form or JSON, as Auth0 accepts both;
// answers are never cached, as RFC 6749 §5.1 asks.
import type { Router } from 'express';
import type { AuthDeps } from '../deps.ts';
import { OAuthError } from '../errors.ts';
import { authenticateClient } from '../grants/client-auth.ts';
import { clientCredentialsGrant } from '../grants/client-credentials.ts';
import { PASSWORD_REALM, passwordGrant } from '../grants/password.ts';
import { refreshTokenGrant } from '../grants/user-grants.ts';
import { bodyOf, route, stringParam } from '../http.ts';

const supported = ['password', PASSWORD_REALM, 'client_credentials', 'refresh_token'];

export function installToken(router: Router, deps: AuthDeps): void {
  router.post(
    '/oauth/token',
    route(async (req, res) => {
      const params = bodyOf(req);
      const grantType = stringParam(params, 'grant_type');
      if (grantType === undefined) {
        throw new OAuthError(400, 'invalid_request', 'Missing required parameter: grant_type');
      }
      const client = authenticateClient(deps.state, req, params);
      if (!supported.includes(grantType)) {
        throw new OAuthError(403, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
      }
      if (!client.grant_types.includes(grantType)) {
        throw new OAuthError(
          403,
          'unauthorized_client',
          `Grant type '${grantType}' not allowed for the client.`,
        );
      }
      const tokens =
        grantType === 'client_credentials'
          ? await clientCredentialsGrant(deps, client, params)
          : grantType === 'refresh_token'
            ? await refreshTokenGrant(deps, client, params)
            : await passwordGrant(deps, client, params, grantType);
      res.set({ 'cache-control': 'no-store', pragma: 'no-cache' }).json(tokens);
    }),
  );
}
