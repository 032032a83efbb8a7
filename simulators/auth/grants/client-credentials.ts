// The client credentials grant: a machine-to-machine token for an API the client has a client
// grant for (the Management API, `<url>/api/v2/`, or one of the configured APIs), carrying the
// granted scopes asked for, or all of them when none are asked for.
import type { TokenSet } from '../claims.ts';
import type { ClientConfig } from '../config.ts';
import type { AuthDeps } from '../deps.ts';
import { OAuthError } from '../errors.ts';
import { listParam, type Params, stringParam } from '../http.ts';

const notAuthorized = (audience: string) =>
  new OAuthError(
    403,
    'access_denied',
    `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
  );

/** The scopes the client may have on `audience`. */
function grantedScopes(deps: AuthDeps, client: ClientConfig, audience: string): string[] {
  if (audience === deps.managementAudience()) {
    if (client.management_scopes.length === 0) throw notAuthorized(audience);
    return client.management_scopes;
  }
  if (!deps.state.apis.has(audience))
    throw new OAuthError(403, 'access_denied', `Service not found: ${audience}`);
  const grant = client.grants.find((g) => g.audience === audience);
  if (!grant) throw notAuthorized(audience);
  return grant.scope;
}

export async function clientCredentialsGrant(
  deps: AuthDeps,
  client: ClientConfig,
  params: Params,
): Promise<TokenSet> {
  const audience = stringParam(params, 'audience') ?? deps.config.defaultAudience;
  if (audience === undefined) {
    throw new OAuthError(
      403,
      'access_denied',
      'No audience parameter was provided, and no default audience has been configured',
    );
  }
  const granted = grantedScopes(deps, client, audience);
  const asked = listParam(params, 'scope');
  const scope = asked.length > 0 ? granted.filter((s) => asked.includes(s)) : granted;
  const access = await deps.jwt.sign(
    {
      sub: `${client.client_id}@clients`,
      aud: audience,
      scope: scope.join(' '),
      gty: 'client-credentials',
      azp: client.client_id,
    },
    deps.config.accessTokenTtlS,
  );
  return {
    access_token: access.token,
    scope: scope.join(' '),
    expires_in: access.expiresIn,
    token_type: 'Bearer',
  };
}
