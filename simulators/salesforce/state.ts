// What the Salesforce simulator holds: one org, shown by GET /_sim/state and emptied by reset.
import type { Request } from 'express';
import { SeededIds, type SimulatorState } from '../kit/index.ts';
import type { Clock } from './clock.ts';
import type { SalesforceSimConfig } from './config.ts';
import { createSalesforceOrg, type SalesforceOrg } from './org.ts';
import { tokenParams } from './routes/oauth.ts';

export class SalesforceState implements SimulatorState {
  readonly org: SalesforceOrg;
  #clock: Clock | undefined;
  // access and refresh tokens from the seed (test secrets, not credentials): a refresh request
  // carries its token in the body, which fingerprints it, so the same seed must give the same token
  readonly #tokens = new SeededIds(0);

  constructor(config?: SalesforceSimConfig) {
    // the kit makes its clock in start(), after the org exists: the org reads whichever clock is
    // bound, so /_sim/clock moves the daily allowance, session expiry and record timestamps
    this.org = createSalesforceOrg({
      config,
      clock: { now: () => this.#clock?.now() ?? Date.now() },
      randomBytes: (size) => this.#tokens.bytes(`oauth-token-${size}`, size),
    });
  }

  /** Binds the simulator's clock (called once, when the routes are installed). */
  useClock(clock: Clock): void {
    this.#clock = clock;
  }

  /** The simulator's seed, once the kit has chosen it: the seed of the OAuth tokens. */
  useSeed(seed: number): void {
    this.#tokens.seed = seed;
  }

  snapshot() {
    const { orgId, users, connectedApps } = this.org.config;
    return {
      orgId,
      // who can log in, without passwords or secrets: those are in the configuration and the docs
      users: users.map((u) => ({
        id: u.id,
        username: u.username,
        hasSecurityToken: u.securityToken !== undefined,
      })),
      connectedApps: connectedApps.map((a) => ({ clientId: a.clientId, runAs: a.runAs ?? null })),
      ...this.org.snapshot(),
    };
  }

  reset(): void {
    this.org.reset();
    // the same requests after a reset get the same tokens as after a fresh start
    this.#tokens.reset();
  }

  /**
   * The tenant a fault rule's `match.tenant` compares with: the username of the session the
   * request's access token belongs to, or the user a token request logs in as. (The simulator
   * holds a single org, so its id would match every request: leave `tenant` out for that.)
   */
  tenantOf(req: Request): string | undefined {
    if (req.path === '/services/oauth2/token') return this.org.oauth.userOfTokenRequest(tokenParams(req));
    return this.org.oauth.peek(req.get('authorization'))?.username;
  }
}
