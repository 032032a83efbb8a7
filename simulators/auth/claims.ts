// What goes into the tokens of a user's sign-in, as Auth0 builds them: an access token for the
// API asked for (or for /userinfo alone), an ID token when `openid` is asked for, with the
// profile claims its scopes allow, and the per-user claims this simulator is configured with
// (organization, roles, permissions, custom namespaced claims).
import type { JWTPayload } from 'jose';
import type { AuthConfig, ClientConfig } from './config.ts';
import type { Jwt } from './jwt.ts';
import type { OrganizationRecord, UserRecord } from './state.ts';

/** The OpenID Connect scopes; anything else must be one an API defines. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'address', 'phone'];

export interface UserGrant {
  client: ClientConfig;
  user: UserRecord;
  /** The API; undefined: a token for /userinfo only. */
  audience: string | undefined;
  scope: string[];
  organization: OrganizationRecord | undefined;
  grantType: 'password' | 'refresh_token';
}

/** The profile claims for a scope list, as /userinfo and the ID token carry them. */
export function profileClaims(user: UserRecord, scope: string[]): JWTPayload {
  const claims: JWTPayload = {};
  if (scope.includes('profile')) {
    Object.assign(claims, {
      ...(user.given_name ? { given_name: user.given_name } : {}),
      ...(user.family_name ? { family_name: user.family_name } : {}),
      nickname: user.nickname,
      name: user.name,
      picture: user.picture,
      updated_at: user.updated_at,
    });
  }
  if (scope.includes('email'))
    Object.assign(claims, { email: user.email, email_verified: user.email_verified });
  return claims;
}

/** Roles, organization and custom claims: what an Auth0 Action would add to both tokens. */
export function userClaims(config: AuthConfig, grant: Pick<UserGrant, 'user' | 'organization'>): JWTPayload {
  const { user, organization } = grant;
  return {
    ...user.claims,
    ...(user.roles.length > 0 ? { [`${config.claimsNamespace}roles`]: user.roles } : {}),
    ...(organization ? { org_id: organization.id, org_name: organization.name } : {}),
  };
}

export interface TokenSet {
  access_token: string;
  id_token?: string;
  scope?: string;
  expires_in: number;
  token_type: 'Bearer';
}

/** Signs the access token and, when `openid` was asked for, the ID token of a user's grant. */
export async function signUserTokens(jwt: Jwt, config: AuthConfig, grant: UserGrant): Promise<TokenSet> {
  const { client, user, audience, scope } = grant;
  const userinfo = `${jwt.issuer}userinfo`;
  const openid = scope.includes('openid');
  const aud = audience === undefined ? userinfo : openid ? [audience, userinfo] : audience;
  const access = await jwt.sign(
    {
      ...userClaims(config, grant),
      sub: user.user_id,
      aud,
      scope: scope.join(' '),
      azp: client.client_id,
      ...(grant.grantType === 'password' ? { gty: 'password' } : {}),
      ...(audience !== undefined && user.permissions.length > 0 ? { permissions: user.permissions } : {}),
    },
    config.accessTokenTtlS,
  );
  const tokens: TokenSet = { access_token: access.token, expires_in: access.expiresIn, token_type: 'Bearer' };
  if (openid) {
    const id = await jwt.sign(
      {
        ...profileClaims(user, scope),
        ...userClaims(config, grant),
        sub: user.user_id,
        aud: client.client_id,
      },
      config.idTokenTtlS,
    );
    tokens.id_token = id.token;
  }
  if (scope.length > 0) tokens.scope = scope.join(' ');
  return tokens;
}
