// The auth simulator: an Auth0-shaped identity provider (OpenID Connect discovery, JWKS with key
// rotation, the token endpoint, userinfo, and the Management API for users, tickets,
// organizations and invitations) for tests of the applications that rely on one.

import type { Simulator } from '../kit/index.ts';
import { type AuthSimulatorOptions, resolveAuthConfig } from './config.ts';
import { buildAuthSimulator } from './server.ts';
import type { AuthState } from './state.ts';

// options and the seeded defaults (clients, user, API) tests sign in with
export type {
  AuthApiSeed,
  AuthClientSeed,
  AuthOrganizationSeed,
  AuthSimulatorOptions,
  AuthUserSeed,
} from './config.ts';
export {
  APP_CLIENT,
  DEFAULT_API,
  DEFAULT_CLIENTS,
  DEFAULT_CONNECTION,
  DEFAULT_USER,
  M2M_CLIENT,
  MANAGEMENT_SCOPES,
  SPA_CLIENT,
} from './defaults.ts';
export type { AuthState } from './state.ts';

/**
 * An auth simulator, not started yet; the issuer is `<url>/`, the Management API's audience
 * `<url>/api/v2/`.
 * @example await using auth = await createAuthSimulator({ seed: 1 }).start();
 */
export function createAuthSimulator(options: AuthSimulatorOptions = {}): Simulator<AuthState> {
  const config = resolveAuthConfig(options);
  return buildAuthSimulator(config, {
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
  });
}
