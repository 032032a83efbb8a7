// What the auth simulator's routes share, built once in server.ts when the simulator starts.
import type { SimClock } from '../kit/index.ts';
import type { AuthConfig } from './config.ts';
import type { Jwt } from './jwt.ts';
import type { AuthState } from './state.ts';

export interface AuthDeps {
  config: AuthConfig;
  state: AuthState;
  jwt: Jwt;
  clock: SimClock;
  /** The base URL, `http://127.0.0.1:PORT`, without a trailing slash. */
  url(): string;
  /** `<url>/api/v2/`: the Management API's audience. */
  managementAudience(): string;
}

export const nowIso = (deps: Pick<AuthDeps, 'clock'>) => new Date(deps.clock.now()).toISOString();
