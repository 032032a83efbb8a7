// The resource owner password grant, plain (`password`, against the first connection, Auth0's
// "default directory") and Auth0's `password-realm` (the connection named by `realm`).
import { signUserTokens, type TokenSet } from '../claims.ts';
import type { ClientConfig } from '../config.ts';
import { type AuthDeps, nowIso } from '../deps.ts';
import { OAuthError } from '../errors.ts';
import { listParam, type Params, stringParam } from '../http.ts';
import type { OrganizationRecord, UserRecord } from '../state.ts';
import { assertNotBlocked, grantedUserScope, issueRefreshToken, userAudience } from './user-grants.ts';

export const PASSWORD_REALM = 'http://auth0.com/oauth/grant-type/password-realm';

const required = (params: Params, name: string) => {
  const value = stringParam(params, name);
  if (value === undefined)
    throw new OAuthError(400, 'invalid_request', `Missing required parameter: ${name}`);
  return value;
};

export async function passwordGrant(
  deps: AuthDeps,
  client: ClientConfig,
  params: Params,
  grantType: string,
): Promise<TokenSet & { refresh_token?: string }> {
  const username = required(params, 'username');
  const password = required(params, 'password');
  let connection = deps.config.connections[0]!;
  if (grantType === PASSWORD_REALM) {
    connection = required(params, 'realm');
    if (!deps.config.connections.includes(connection)) {
      throw new OAuthError(400, 'invalid_request', `connection not found: ${connection}`);
    }
  }
  const audience = userAudience(deps, params);
  const user = deps.state.findUserByLogin(username, connection);
  if (!user || user.password !== password) {
    throw new OAuthError(403, 'invalid_grant', 'Wrong email or password.');
  }
  assertNotBlocked(user);
  const organization = organizationOf(deps, user, stringParam(params, 'organization'));
  const scope = grantedUserScope(deps, audience, listParam(params, 'scope'));
  user.last_login = nowIso(deps);
  user.logins_count += 1;
  const grant = { client, user, audience, scope, organization, grantType: 'password' as const };
  const tokens = await signUserTokens(deps.jwt, deps.config, grant);
  return issueRefreshToken(deps, grant, tokens);
}

/** The organization signed in to: the one asked for (the user must be a member), else the user's own. */
function organizationOf(
  deps: AuthDeps,
  user: UserRecord,
  asked: string | undefined,
): OrganizationRecord | undefined {
  if (asked === undefined) {
    return user.organization ? deps.state.organizations.get(user.organization) : undefined;
  }
  const organization = deps.state.findOrganization(asked);
  if (!organization)
    throw new OAuthError(
      400,
      'invalid_request',
      `parameter organization is invalid: ${asked} does not exist`,
    );
  if (!organization.members.has(user.user_id)) {
    throw new OAuthError(
      403,
      'access_denied',
      `user ${user.user_id} is not a member of organization ${organization.id}`,
    );
  }
  return organization;
}
