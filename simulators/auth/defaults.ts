// What the auth simulator holds when nothing else is configured: the documented clients, one API,
// one user, and the Management API's scopes. Tests and the harness import these instead of
// repeating the literals.
import type { AuthApiSeed, AuthClientSeed, AuthUserSeed } from './config.ts';

/** Auth0's name of the database connection users sign up to. */
export const DEFAULT_CONNECTION = 'Username-Password-Authentication';

/** The API (resource server) a control plane under test would be: its identifier is the audience. */
export const DEFAULT_API = {
  identifier: 'https://api.planewright.test/',
  name: 'Planewright control plane',
  scopes: ['read:orgs', 'write:orgs', 'read:deployments', 'write:deployments'],
} satisfies AuthApiSeed;

/** Every Management API scope the simulator checks. */
export const MANAGEMENT_SCOPES = [
  'read:users',
  'create:users',
  'update:users',
  'delete:users',
  'create:user_tickets',
  'read:organizations',
  'create:organizations',
  'update:organizations',
  'delete:organizations',
  'read:organization_members',
  'create:organization_members',
  'delete:organization_members',
  'read:organization_invitations',
  'create:organization_invitations',
  'delete:organization_invitations',
] as const;

/** A regular web application: password (and password-realm) and refresh grants, with a secret. */
export const APP_CLIENT: AuthClientSeed = {
  client_id: 'pw_sim_app',
  client_secret: 'pw_sim_app_secret',
  name: 'Planewright app',
  app_type: 'regular_web',
  grant_types: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token'],
  initiate_login_uri: 'https://app.planewright.test/login',
};

/** A single-page application: a public client (no secret), password and refresh grants. */
export const SPA_CLIENT: AuthClientSeed = {
  client_id: 'pw_sim_spa',
  name: 'Planewright SPA',
  app_type: 'spa',
  grant_types: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token'],
};

/** A machine-to-machine application granted the whole Management API and the default API. */
export const M2M_CLIENT: AuthClientSeed = {
  client_id: 'pw_sim_m2m',
  client_secret: 'pw_sim_m2m_secret',
  name: 'Planewright backend',
  app_type: 'non_interactive',
  grant_types: ['client_credentials'],
  management_scopes: [...MANAGEMENT_SCOPES],
  grants: [{ audience: DEFAULT_API.identifier, scope: DEFAULT_API.scopes }],
};

export const DEFAULT_CLIENTS: AuthClientSeed[] = [APP_CLIENT, SPA_CLIENT, M2M_CLIENT];

/** One user to sign in with from the start. */
export const DEFAULT_USER: AuthUserSeed = {
  user_id: 'auth0|000000000000000000000001',
  email: 'alice@example.com',
  password: 'Passw0rd!',
  name: 'Alice Example',
};
