// Everything the auth simulator holds in memory, and how it goes back to the configured start.
// Ids come from counters, not randomness, so two runs with the same requests produce the same
// paths (/api/v2/users/auth0|…) and a journal recorded in one can be replayed into the other;
// counters survive reset() so an id handed out before a reset is never handed out again.
// Secrets (refresh tokens, tickets) are seeded too (SeededIds: SHA-256 of the seed, what it is for
// and a counter), since requests carry them in their bodies and are fingerprinted by them; their
// counters do restart at reset(), so the same requests after a reset get the same secrets.
import { createHash } from 'node:crypto';
import { SeededIds, type SimulatorState } from '../kit/index.ts';
import type { AuthConfig, ClientConfig, UserConfig } from './config.ts';
import type { KeyRing } from './keys.ts';

export interface UserRecord {
  user_id: string;
  email: string;
  email_verified: boolean;
  username?: string;
  name: string;
  nickname: string;
  picture: string;
  given_name?: string;
  family_name?: string;
  blocked: boolean;
  connection: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_login?: string;
  last_password_reset?: string;
  logins_count: number;
  /** Kept to check sign-ins; never answered or shown. */
  password: string;
  roles: string[];
  permissions: string[];
  /** The organization signed in to when a token request names none. */
  organization?: string;
  claims: Record<string, unknown>;
}

export interface OrganizationRecord {
  id: string;
  name: string;
  display_name: string;
  metadata: Record<string, string>;
  branding?: Record<string, unknown>;
  members: Set<string>;
}

export interface InvitationRecord {
  id: string;
  organization_id: string;
  inviter: { name: string };
  invitee: { email: string };
  invitation_url: string;
  created_at: string;
  expires_at: string;
  client_id: string;
  connection_id?: string;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  roles: string[];
  ticket_id: string;
}

export interface TicketRecord {
  id: string;
  kind: 'password-change' | 'email-verification';
  user_id: string;
  result_url?: string;
  mark_email_as_verified: boolean;
  expiresAtMs: number;
  usedAtMs?: number;
}

export interface RefreshTokenRecord {
  token: string;
  /** Tokens rotated from one another share a family; reusing a rotated-out one revokes it all. */
  family: string;
  client_id: string;
  user_id: string;
  audience: string | undefined;
  scope: string;
  organization: string | undefined;
  issuedAtMs: number;
  lastUsedAtMs: number;
  expiresAtMs: number;
  rotatedOut: boolean;
}

// Auth0's default picture: the Gravatar of the address, falling back to a silhouette
const gravatar = (email: string) =>
  `https://s.gravatar.com/avatar/${createHash('md5').update(email.trim().toLowerCase()).digest('hex')}?s=480&r=pg&d=mp`;

const counterId = (prefix: string, n: number, width: number, radix: number) =>
  `${prefix}${n.toString(radix).padStart(width, '0')}`;

export class AuthState implements SimulatorState {
  readonly config: AuthConfig;
  readonly keys: KeyRing;
  readonly #now: () => number;
  users = new Map<string, UserRecord>();
  clients = new Map<string, ClientConfig>();
  apis = new Map<string, string[]>();
  organizations = new Map<string, OrganizationRecord>();
  invitations = new Map<string, InvitationRecord>();
  tickets = new Map<string, TicketRecord>();
  refreshTokens = new Map<string, RefreshTokenRecord>();
  #counters = { user: 0, organization: 0, invitation: 0 };
  // the kit picks the seed at start() when none was given: useSeed() sets it then
  readonly #secrets = new SeededIds(0);
  // seeds without an id get one once, so that reset() brings back the same ids
  readonly #seedUserIds: string[];
  readonly #seedOrganizationIds: string[];

  constructor(config: AuthConfig, keys: KeyRing, now: () => number) {
    this.config = config;
    this.keys = keys;
    this.#now = now;
    const explicitUsers = new Set(config.users.flatMap((u) => (u.user_id ? [u.user_id] : [])));
    const explicitOrganizations = new Set(config.organizations.flatMap((o) => (o.id ? [o.id] : [])));
    this.#seedUserIds = config.users.map((u) => u.user_id ?? this.#nextUserId(explicitUsers));
    this.#seedOrganizationIds = config.organizations.map(
      (o) => o.id ?? this.#nextOrganizationId(explicitOrganizations),
    );
    this.reset();
  }

  newUserId(): string {
    return this.#nextUserId(new Set(this.users.keys()));
  }

  newOrganizationId(): string {
    return this.#nextOrganizationId(new Set(this.organizations.keys()));
  }

  #nextUserId(taken: Set<string>): string {
    let id: string;
    do id = counterId('auth0|', ++this.#counters.user, 24, 16);
    while (taken.has(id) || this.users.has(id));
    return id;
  }

  #nextOrganizationId(taken: Set<string>): string {
    let id: string;
    do id = counterId('org_', ++this.#counters.organization, 16, 36);
    while (taken.has(id) || this.organizations.has(id));
    return id;
  }

  newInvitationId(): string {
    return counterId('uinv_', ++this.#counters.invitation, 16, 36);
  }

  /** The simulator's seed, once the kit has chosen it: the seed of {@link newSecret}. */
  useSeed(seed: number): void {
    this.#secrets.seed = seed;
  }

  /**
   * A secret for a ticket or refresh token: a test secret, not guessable without the seed, and the
   * same in every run with the same seed and the same requests (not a real credential).
   */
  newSecret(bytes = 24, purpose = 'secret'): string {
    return this.#secrets.base64url(purpose, bytes);
  }

  findUserByLogin(login: string, connection?: string): UserRecord | undefined {
    const wanted = login.toLowerCase();
    for (const user of this.users.values()) {
      if (connection && user.connection !== connection) continue;
      if (user.email.toLowerCase() === wanted || user.username?.toLowerCase() === wanted) return user;
    }
    return undefined;
  }

  /** An organization by id or by name. */
  findOrganization(idOrName: string): OrganizationRecord | undefined {
    return (
      this.organizations.get(idOrName) ?? [...this.organizations.values()].find((o) => o.name === idOrName)
    );
  }

  addUser(seed: UserConfig, nowIso: string): UserRecord {
    const user: UserRecord = {
      user_id: seed.user_id ?? this.newUserId(),
      email: seed.email.toLowerCase(),
      email_verified: seed.email_verified,
      ...(seed.username ? { username: seed.username } : {}),
      name: seed.name ?? seed.email,
      nickname: seed.nickname ?? seed.email.split('@')[0]!,
      picture: seed.picture ?? gravatar(seed.email),
      ...(seed.given_name ? { given_name: seed.given_name } : {}),
      ...(seed.family_name ? { family_name: seed.family_name } : {}),
      blocked: seed.blocked,
      connection: seed.connection ?? this.config.connections[0]!,
      app_metadata: seed.app_metadata,
      user_metadata: seed.user_metadata,
      created_at: nowIso,
      updated_at: nowIso,
      logins_count: 0,
      password: seed.password,
      roles: seed.roles,
      permissions: seed.permissions,
      claims: seed.claims,
    };
    this.users.set(user.user_id, user);
    if (seed.organization) {
      const organization = this.findOrganization(seed.organization);
      if (organization) {
        organization.members.add(user.user_id);
        user.organization = organization.id;
      }
    }
    return user;
  }

  reset(): void {
    const nowIso = new Date(this.#now()).toISOString();
    this.clients = new Map(this.config.clients.map((c) => [c.client_id, c]));
    this.apis = new Map(this.config.apis.map((api) => [api.identifier, api.scopes]));
    this.organizations = new Map();
    for (const [i, seed] of this.config.organizations.entries()) {
      const id = this.#seedOrganizationIds[i]!;
      const { display_name = seed.name, metadata } = seed;
      this.organizations.set(id, { id, name: seed.name, display_name, metadata, members: new Set() });
    }
    this.users = new Map();
    for (const [i, seed] of this.config.users.entries()) {
      this.addUser({ ...seed, user_id: this.#seedUserIds[i]! }, nowIso);
    }
    this.invitations = new Map();
    this.tickets = new Map();
    this.refreshTokens = new Map();
    this.#secrets.reset();
    this.keys.reset();
  }

  /** GET /_sim/state: everything held, less passwords, client secrets, token values and private keys. */
  snapshot() {
    const now = this.#now();
    return {
      users: [...this.users.values()].map(({ password: _password, ...user }) => user),
      clients: [...this.clients.values()].map(({ client_secret, ...client }) => ({
        ...client,
        confidential: client_secret !== undefined,
      })),
      apis: [...this.apis].map(([identifier, scopes]) => ({ identifier, scopes })),
      organizations: [...this.organizations.values()].map((o) => ({ ...o, members: [...o.members] })),
      invitations: [...this.invitations.values()],
      tickets: [...this.tickets.values()].map(({ id, ...ticket }) => ({
        ...ticket,
        id: `${id.slice(0, 6)}…`,
        expiresAt: new Date(ticket.expiresAtMs).toISOString(),
      })),
      refreshTokens: [...this.refreshTokens.values()].map(({ token, ...record }) => ({
        ...record,
        token: `${token.slice(0, 6)}…`,
      })),
      keys: this.keys.snapshot(now),
    };
  }
}
