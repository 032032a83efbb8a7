// What the password and refresh grants share: which API a user's token is for, which scopes it
// gets, and the rotating refresh tokens (a rotated-out token used again revokes its whole family,
// as Auth0's reuse detection does).
import { OIDC_SCOPES, signUserTokens, type TokenSet, type UserGrant } from '../claims.ts';
import type { ClientConfig } from '../config.ts';
import type { AuthDeps } from '../deps.ts';
import { OAuthError } from '../errors.ts';
import { listParam, type Params, stringParam } from '../http.ts';
import type { RefreshTokenRecord, UserRecord } from '../state.ts';

export function assertNotBlocked(user: UserRecord): void {
  if (user.blocked) throw new OAuthError(401, 'unauthorized', 'user is blocked');
}

/** The API a user's token is for: `audience`, else the default audience, else none (/userinfo only). */
export function userAudience(deps: AuthDeps, params: Params): string | undefined {
  const audience = stringParam(params, 'audience') ?? deps.config.defaultAudience;
  if (audience === undefined) return undefined;
  if (audience === deps.managementAudience()) {
    // Auth0 gives users only a few self-service Management API scopes; the simulator gives none
    throw new OAuthError(
      403,
      'access_denied',
      `Client is not authorized to access "${audience}" on behalf of a user.`,
    );
  }
  if (!deps.state.apis.has(audience))
    throw new OAuthError(403, 'access_denied', `Service not found: ${audience}`);
  return audience;
}

/** The OpenID Connect scopes asked for, and the API scopes the API defines. */
export function grantedUserScope(deps: AuthDeps, audience: string | undefined, asked: string[]): string[] {
  const apiScopes = audience === undefined ? [] : (deps.state.apis.get(audience) ?? []);
  return [...new Set(asked.filter((s) => OIDC_SCOPES.includes(s) || apiScopes.includes(s)))];
}

type Tokens = TokenSet & { refresh_token?: string };

/** Adds a refresh token when `offline_access` was granted and the client may refresh. */
export function issueRefreshToken(
  deps: AuthDeps,
  grant: UserGrant,
  tokens: TokenSet,
  family?: RefreshTokenRecord,
): Tokens {
  const mayRefresh =
    grant.scope.includes('offline_access') && grant.client.grant_types.includes('refresh_token');
  if (!family && !mayRefresh) return tokens;
  const now = deps.clock.now();
  const record: RefreshTokenRecord = {
    token: deps.state.newSecret(36, 'refresh-token'),
    family: family?.family ?? deps.state.newSecret(9, 'refresh-token-family'),
    client_id: grant.client.client_id,
    user_id: grant.user.user_id,
    audience: grant.audience,
    // a rotated token keeps what its family was granted, whatever this refresh narrowed
    scope: family?.scope ?? grant.scope.join(' '),
    organization: grant.organization?.id,
    issuedAtMs: now,
    lastUsedAtMs: now,
    // a rotated token keeps its family's absolute lifetime: rotation does not extend a session
    expiresAtMs: family?.expiresAtMs ?? now + deps.config.refreshTokens.absoluteLifetimeS * 1000,
    rotatedOut: false,
  };
  deps.state.refreshTokens.set(record.token, record);
  return { ...tokens, refresh_token: record.token };
}

const invalidRefreshToken = () => new OAuthError(403, 'invalid_grant', 'Unknown or invalid refresh token.');

export async function refreshTokenGrant(
  deps: AuthDeps,
  client: ClientConfig,
  params: Params,
): Promise<Tokens> {
  const token = stringParam(params, 'refresh_token');
  if (token === undefined)
    throw new OAuthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
  const { state, config } = deps;
  const record = state.refreshTokens.get(token);
  const now = deps.clock.now();
  if (!record || record.client_id !== client.client_id) throw invalidRefreshToken();
  if (record.rotatedOut) {
    for (const [key, each] of state.refreshTokens)
      if (each.family === record.family) state.refreshTokens.delete(key);
    throw invalidRefreshToken();
  }
  const idleLimitMs = config.refreshTokens.idleLifetimeS * 1000;
  const user = state.users.get(record.user_id);
  if (now >= record.expiresAtMs || now - record.lastUsedAtMs >= idleLimitMs || !user) {
    state.refreshTokens.delete(token);
    throw invalidRefreshToken();
  }
  assertNotBlocked(user);
  // a refresh may narrow the scope, never widen it
  const asked = listParam(params, 'scope');
  const granted = record.scope.split(' ').filter(Boolean);
  const scope = asked.length > 0 ? granted.filter((s) => asked.includes(s)) : granted;
  const organization = record.organization ? state.organizations.get(record.organization) : undefined;
  const grant: UserGrant = {
    client,
    user,
    audience: record.audience,
    scope,
    organization,
    grantType: 'refresh_token',
  };
  const tokens = await signUserTokens(deps.jwt, config, grant);
  if (!config.refreshTokens.rotation) {
    record.lastUsedAtMs = now;
    return tokens;
  }
  record.rotatedOut = true;
  return issueRefreshToken(deps, grant, tokens, record);
}
