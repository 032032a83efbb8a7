// The auth simulator's options, each with its default beside it, checked once when the simulator
// is created: a mistake fails there with the option's path, not later inside a token request.
import { z } from 'zod';
import { maxAheadMs, SimulatorError, type SimulatorFactoryOptions } from '../kit/index.ts';
import { DEFAULT_API, DEFAULT_CLIENTS, DEFAULT_CONNECTION, DEFAULT_USER } from './defaults.ts';

// lifetimes reach date arithmetic on the simulator clock: at most its horizon, 100 years
const maxAheadS = Math.floor(maxAheadMs / 1000);

const metadata = z.record(z.string(), z.unknown());
// claims a seed may not set: the simulator (as Auth0) owns them
const reservedClaims = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'azp', 'scope', 'gty', 'org_id'];

const userSeed = z.object({
  /** Default: `auth0|` and 24 hex digits, assigned in order. */
  user_id: z.string().min(1).optional(),
  email: z.email(),
  password: z.string().min(1),
  username: z.string().min(1).optional(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  nickname: z.string().optional(),
  picture: z.string().optional(),
  /** Default true: seeded users have verified their address. */
  email_verified: z.boolean().default(true),
  /** Default false. A blocked user gets no tokens. */
  blocked: z.boolean().default(false),
  /** Default `Username-Password-Authentication`. */
  connection: z.string().optional(),
  app_metadata: metadata.default({}),
  user_metadata: metadata.default({}),
  /** In access and ID tokens as `<claimsNamespace>roles`. */
  roles: z.array(z.string()).default([]),
  /** In access tokens for an API as `permissions`, as Auth0's RBAC adds them. */
  permissions: z.array(z.string()).default([]),
  /** Organization (id or name) the user signs in to when a token request names none: `org_id`. */
  organization: z.string().optional(),
  /** Extra claims in access and ID tokens, e.g. `{"https://planewright.dev/plan": "pro"}`. */
  claims: metadata
    .refine((claims) => !Object.keys(claims).some((name) => reservedClaims.includes(name)), {
      message: `may not set ${reservedClaims.join(', ')}`,
    })
    .default({}),
});

const clientSeed = z.object({
  client_id: z.string().min(1),
  /** None: a public client (an SPA or native app), which authenticates with its id alone. */
  client_secret: z.string().min(1).optional(),
  name: z.string().default('Application'),
  app_type: z.enum(['regular_web', 'spa', 'native', 'non_interactive']).default('regular_web'),
  grant_types: z.array(z.string()).default(['password', 'refresh_token']),
  /** Management API scopes its client_credentials tokens may carry (Auth0's client grant). */
  management_scopes: z.array(z.string()).default([]),
  /** Other APIs its client_credentials tokens may be asked for, with their scopes. */
  grants: z.array(z.object({ audience: z.string().min(1), scope: z.array(z.string()) })).default([]),
  /** The application's login route: invitation links point there. Default `<url>/login`. */
  initiate_login_uri: z.url().optional(),
});

const apiSeed = z.object({
  identifier: z.string().min(1),
  name: z.string().optional(),
  scopes: z.array(z.string()).default([]),
});

const organizationSeed = z.object({
  /** Default `org_` and 16 characters, assigned in order. */
  id: z.string().startsWith('org_').optional(),
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _'),
  display_name: z.string().optional(),
  metadata: z.record(z.string(), z.string()).default({}),
});

const schema = z.object({
  /** Default: one user, alice@example.com / Passw0rd! (DEFAULT_USER). */
  users: z.array(userSeed).prefault([DEFAULT_USER]),
  /** Default: pw_sim_app (regular web), pw_sim_spa (SPA), pw_sim_m2m (machine to machine). */
  clients: z.array(clientSeed).prefault(DEFAULT_CLIENTS),
  /** APIs besides the Management API. Default: https://api.planewright.test/ (DEFAULT_API). */
  apis: z.array(apiSeed).prefault([DEFAULT_API]),
  /** Default: none. */
  organizations: z.array(organizationSeed).default([]),
  /** Database connections. Default: Username-Password-Authentication. */
  connections: z.array(z.string().min(1)).min(1).default([DEFAULT_CONNECTION]),
  /** Audience of a token request that names none; default none, as on a new Auth0 tenant. */
  defaultAudience: z.string().optional(),
  /** Namespace of the roles claim. Default `https://planewright.dev/`. */
  claimsNamespace: z.string().default('https://planewright.dev/'),
  /** Default RS256, as Auth0. */
  signingAlg: z.enum(['RS256', 'PS256']).default('RS256'),
  /** Default 86,400 s, Auth0's default for an API. */
  accessTokenTtlS: z.int().positive().max(maxAheadS).default(86_400),
  /** Default 36,000 s, Auth0's default. */
  idTokenTtlS: z.int().positive().max(maxAheadS).default(36_000),
  /** Default: rotating refresh tokens, 30 days absolute, 15 days idle (Auth0's defaults). */
  refreshTokens: z
    .object({
      rotation: z.boolean().default(true),
      absoluteLifetimeS: z.int().positive().max(maxAheadS).default(2_592_000),
      idleLifetimeS: z.int().positive().max(maxAheadS).default(1_296_000),
    })
    .default({ rotation: true, absoluteLifetimeS: 2_592_000, idleLifetimeS: 1_296_000 }),
  /** How long a rotated-out signing key stays in the JWKS, on the simulator clock. Default 1 hour. */
  keyGracePeriodMs: z.int().nonnegative().max(maxAheadMs).default(3_600_000),
  /** Default: the clock runs with real time from now (ID tokens must look fresh to clients). */
  clock: z
    .object({ start: z.union([z.string(), z.number(), z.date()]).optional(), frozen: z.boolean().optional() })
    .default({}),
});

export type AuthUserSeed = z.input<typeof userSeed>;
export type AuthClientSeed = z.input<typeof clientSeed>;
export type AuthApiSeed = z.input<typeof apiSeed>;
export type AuthOrganizationSeed = z.input<typeof organizationSeed>;
export type AuthConfig = z.output<typeof schema>;
export type UserConfig = z.output<typeof userSeed>;
export type ClientConfig = z.output<typeof clientSeed>;
export type OrganizationConfig = z.output<typeof organizationSeed>;

/** Options of `createAuthSimulator`; every one is optional. */
export type AuthSimulatorOptions = SimulatorFactoryOptions & z.input<typeof schema>;

/** Fills in the defaults and checks every option; a mistake is a PW_SIM_BAD_CONFIG naming it. */
export function resolveAuthConfig(options: AuthSimulatorOptions = {}): AuthConfig {
  const { seed: _seed, logLevel: _logLevel, ...rest } = options;
  const parsed = schema.safeParse(rest);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new SimulatorError(
      'PW_SIM_BAD_CONFIG',
      `the auth simulator's options are invalid (${problems.join('; ')})`,
      'see docs/simulators.md#auth for every option and its default',
    );
  }
  const config = parsed.data;
  const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
  const clashes = [
    ...duplicates(config.clients.map((c) => c.client_id)).map((id) => `client_id ${id}`),
    ...duplicates(config.users.map((u) => u.email.toLowerCase())).map((email) => `email ${email}`),
    ...duplicates(config.organizations.map((o) => o.name)).map((name) => `organization ${name}`),
  ];
  if (clashes.length > 0) {
    throw new SimulatorError(
      'PW_SIM_BAD_CONFIG',
      `the auth simulator's options repeat ${clashes.join(', ')}`,
      'each must be unique',
    );
  }
  return config;
}
