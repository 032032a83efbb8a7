import { createHmac, randomBytes as cryptoRandomBytes } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { ConnectedAppConfig, ResolvedConfig, ResolvedUser } from './config.ts';
import { OAuthError } from './errors.ts';
import { createSessions, type Session } from './sessions.ts';

/** Salesforce's token response; `refresh_token` only for grants that issue one. */
export type TokenResponse = {
  access_token: string;
  refresh_token?: string;
  instance_url: string;
  id: string;
  token_type: 'Bearer';
  issued_at: string;
  signature: string;
  scope: string;
};

export type OAuthOptions = {
  config: ResolvedConfig;
  clock: Clock;
  /** Default: node:crypto. Inject a seeded source to make tokens reproducible. */
  randomBytes?: (size: number) => Uint8Array;
};

/** Where the simulator is reached: the token response names it as instance_url and in the identity URL. */
export type TokenContext = { instanceUrl: string; loginUrl?: string };

/** The token of an `Authorization: Bearer …` (or `OAuth …`) header. */
const bearerToken = (authorization: string | undefined): string | undefined =>
  /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];

const invalidGrant = (description = 'authentication failure') =>
  new OAuthError(400, 'invalid_grant', description);

/**
 * The token endpoint (`POST /services/oauth2/token`) and revoke endpoint: password (with the
 * security token appended when the user has one), client_credentials and refresh_token grants;
 * access tokens that expire when idle and can be revoked.
 */
export function createOAuth(options: OAuthOptions) {
  const { config, clock } = options;
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  const sessions = createSessions({ clock, idleTimeoutMs: config.sessionTimeoutMs });
  const orgPrefix = config.orgId.slice(0, 15);
  const newToken = (size: number) => Buffer.from(randomBytes(size)).toString('base64url');

  const userNamed = (username: string | undefined) =>
    config.users.find((u) => u.username.toLowerCase() === username?.toLowerCase());

  function clientOf(params: Record<string, string | undefined>, secretRequired: boolean): ConnectedAppConfig {
    const app = config.connectedApps.find((a) => a.clientId === params.client_id);
    if (!app) throw new OAuthError(400, 'invalid_client_id', 'client identifier invalid');
    const secret = params.client_secret;
    if ((secretRequired || secret !== undefined) && secret !== app.clientSecret) {
      throw new OAuthError(400, 'invalid_client', 'invalid client credentials');
    }
    return app;
  }

  function issue(
    user: ResolvedUser,
    app: ConnectedAppConfig,
    context: TokenContext,
    refreshToken?: string,
  ): TokenResponse {
    const issuedAt = String(clock.now());
    const loginUrl = (context.loginUrl ?? context.instanceUrl).replace(/\/$/, '');
    const id = `${loginUrl}/id/${config.orgId}/${user.id}`;
    const accessToken = `${orgPrefix}!${newToken(72)}`;
    sessions.open(accessToken, {
      userId: user.id,
      username: user.username,
      clientId: app.clientId,
      refreshToken,
    });
    return {
      access_token: accessToken,
      instance_url: context.instanceUrl.replace(/\/$/, ''),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      // Salesforce signs id + issued_at with the client secret so a client can tell the response is genuine
      signature: createHmac('sha256', app.clientSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: refreshToken ? 'api refresh_token' : 'api',
    };
  }

  return {
    /** Answers a token request's form parameters, or throws OAuthError with Salesforce's error and description. */
    token(params: Record<string, string | undefined>, context: TokenContext): TokenResponse {
      switch (params.grant_type) {
        case 'password': {
          const app = clientOf(params, true);
          const user = userNamed(params.username);
          const expected = user ? user.password + (user.securityToken ?? '') : undefined;
          if (!user || params.password !== expected) throw invalidGrant();
          return issue(user, app, context);
        }
        case 'client_credentials': {
          const app = clientOf(params, true);
          const user = userNamed(app.runAs);
          if (!user) throw invalidGrant('no client credentials user enabled');
          return issue(user, app, context);
        }
        case 'refresh_token': {
          const app = clientOf(params, false);
          const grant = sessions.refreshGrant(params.refresh_token ?? '');
          const user = userNamed(grant?.username);
          if (!grant || grant.clientId !== app.clientId || !user)
            throw invalidGrant('expired access/refresh token');
          return issue(user, app, context, params.refresh_token);
        }
        default:
          throw new OAuthError(400, 'unsupported_grant_type', 'grant type not supported');
      }
    },

    /**
     * A refresh token for a user and app, as if the user had approved the app in the browser (the
     * authorization-code flow the simulator does not model). Tests seed jsforce's refresh with it.
     */
    issueRefreshToken(username: string, clientId: string): string {
      const user = userNamed(username);
      const app = config.connectedApps.find((a) => a.clientId === clientId);
      if (!user || !app) throw invalidGrant();
      const token = `5Aep${newToken(64)}`;
      sessions.grantRefresh(token, { username: user.username, clientId: app.clientId });
      return token;
    },

    /** The session behind an `Authorization: Bearer …` (or `OAuth …`) header; INVALID_SESSION_ID otherwise. */
    authenticate(authorization: string | undefined): Session {
      return sessions.use(bearerToken(authorization));
    },

    /** The session of a bearer header if it is live, touching nothing (fault matching must not extend a session). */
    peek(authorization: string | undefined): Session | undefined {
      const token = bearerToken(authorization);
      return token ? sessions.peek(token) : undefined;
    },

    /** The user a token request would run as, or undefined: the tenant of a token request. */
    userOfTokenRequest(params: Record<string, string | undefined>): string | undefined {
      if (params.grant_type === 'password') return userNamed(params.username)?.username;
      if (params.grant_type === 'client_credentials') {
        return config.connectedApps.find((a) => a.clientId === params.client_id)?.runAs;
      }
      if (params.grant_type === 'refresh_token')
        return sessions.refreshGrant(params.refresh_token ?? '')?.username;
      return undefined;
    },

    /** `POST /services/oauth2/revoke`: an access token ends its session; a refresh token also ends its sessions. */
    revoke(token: string | undefined): void {
      if (!token || !sessions.revoke(token)) {
        throw new OAuthError(400, 'unsupported_token_type', 'this token type is not supported');
      }
    },

    /** Ends every session at once, as an admin's "expire all sessions" does; refresh tokens stay valid. */
    expireAllSessions: () => sessions.expireAll(),

    snapshot: () => sessions.snapshot(),
    reset: () => sessions.reset(),
  };
}

export type OAuth = ReturnType<typeof createOAuth>;
