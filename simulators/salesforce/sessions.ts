import type { Clock } from './clock.ts';
import { invalidSession } from './errors.ts';

/** Who a valid access token belongs to. */
export type Session = { userId: string; username: string; clientId: string; refreshToken?: string };

type OpenSession = Session & { issuedMs: number; lastUsedMs: number };
type RefreshGrant = { username: string; clientId: string };

// bounds memory when a load test logs in again and again
const maxSessions = 10_000;

/** Access tokens with an idle timeout, and the refresh tokens they may come from. */
export function createSessions(options: { clock: Clock; idleTimeoutMs: number }) {
  const { clock, idleTimeoutMs } = options;
  const sessions = new Map<string, OpenSession>();
  const refreshGrants = new Map<string, RefreshGrant>();

  return {
    open(token: string, session: Session): void {
      if (sessions.size >= maxSessions) sessions.delete(sessions.keys().next().value!);
      const now = clock.now();
      sessions.set(token, { ...session, issuedMs: now, lastUsedMs: now });
    },

    /** The session of a live token, kept alive by the use; INVALID_SESSION_ID for anything else. */
    use(token: string | undefined): Session {
      const session = token ? sessions.get(token) : undefined;
      const now = clock.now();
      if (!session || now - session.lastUsedMs > idleTimeoutMs) {
        if (token) sessions.delete(token);
        throw invalidSession();
      }
      session.lastUsedMs = now;
      const { issuedMs: _issued, lastUsedMs: _used, ...rest } = session;
      return rest;
    },

    /** Who a live token belongs to, without keeping it alive or ending it: for fault rules' tenant. */
    peek(token: string): Session | undefined {
      const session = sessions.get(token);
      if (!session || clock.now() - session.lastUsedMs > idleTimeoutMs) return undefined;
      return { userId: session.userId, username: session.username, clientId: session.clientId };
    },

    grantRefresh(token: string, grant: RefreshGrant): void {
      refreshGrants.set(token, grant);
    },

    refreshGrant: (token: string): RefreshGrant | undefined => refreshGrants.get(token),

    /** True when the token was known: an access token ends; a refresh token ends with its sessions. */
    revoke(token: string): boolean {
      if (sessions.delete(token)) return true;
      if (!refreshGrants.delete(token)) return false;
      for (const [access, session] of sessions) if (session.refreshToken === token) sessions.delete(access);
      return true;
    },

    expireAll(): void {
      sessions.clear();
    },

    /** Sessions for the admin state view: who and since when, never the tokens themselves. */
    snapshot() {
      return {
        sessions: [...sessions.values()].map((s) => ({
          username: s.username,
          clientId: s.clientId,
          issuedAt: new Date(s.issuedMs).toISOString(),
          lastUsedAt: new Date(s.lastUsedMs).toISOString(),
        })),
        refreshTokens: refreshGrants.size,
      };
    },

    reset(): void {
      sessions.clear();
      refreshGrants.clear();
    },
  };
}
