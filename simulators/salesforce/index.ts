// The Salesforce simulator: OAuth, sObjects, SOQL, composite and collections, limits, in memory,
// close enough to Salesforce's REST API that jsforce works against it unchanged.
import { Simulator, type SimulatorFactoryOptions } from '../kit/index.ts';
import type { SalesforceSimConfig } from './config.ts';
import { installSalesforceRoutes } from './server.ts';
import { installSalesforceAdmin } from './sim-admin.ts';
import { SalesforceState } from './state.ts';
import { salesforceVendor } from './vendor.ts';

export type { ConnectedAppConfig, SalesforceSimConfig, SalesforceUserConfig } from './config.ts';
export { SalesforceState } from './state.ts';
export { latestApiVersion, oldestApiVersion } from './versions.ts';

export interface SalesforceSimulatorOptions extends SimulatorFactoryOptions {
  /** Users, connected apps, daily allowance, query batch size, session timeout, org id. Default: `defaultSalesforceConfig`. */
  config?: SalesforceSimConfig;
  /** Where the clock starts: a Date, epoch ms or ISO string. Default: now. */
  clockStart?: Date | number | string;
  /** true: the clock moves only by `/_sim/clock`, so timestamps are exact. Default false (real time). */
  frozenClock?: boolean;
}

/**
 * Who can log in when no `config.users` is given (documented in docs/simulators.md): an admin
 * without a security token, whom the connected app's client credentials run as, and an
 * integration user with one, as from an untrusted network (the password grant wants
 * password + token).
 */
export const defaultSalesforceConfig = {
  users: [
    { username: 'admin@planewright.test', password: 'planewright' },
    {
      username: 'integration@planewright.test',
      password: 'planewright',
      securityToken: 'PlanewrightSecurityToken',
    },
  ],
  // connected apps: the core's default, `planewright-client` / `planewright-secret`, running as the first user
} satisfies SalesforceSimConfig;

/**
 * A Salesforce simulator, not yet started.
 * @example await using sim = await createSalesforceSimulator({ seed: 1 }).start();
 *          const conn = new jsforce.Connection({ loginUrl: sim.url, oauth2: { clientId, clientSecret, loginUrl: sim.url } });
 */
export function createSalesforceSimulator(
  options: SalesforceSimulatorOptions = {},
): Simulator<SalesforceState> {
  const state = new SalesforceState({ ...defaultSalesforceConfig, ...options.config });
  return new Simulator({
    name: 'salesforce',
    state,
    seed: options.seed,
    logLevel: options.logLevel,
    // Salesforce sends no request id header
    requestIdHeader: null,
    tenant: (req) => state.tenantOf(req),
    clock: {
      start: options.clockStart,
      frozen: options.frozenClock ?? false,
      // nothing runs on a schedule: the allowance and sessions are judged against the clock when used
    },
    vendor: salesforceVendor(state),
  })
    .withRoutes((router, ctx) => installSalesforceRoutes(router, ctx))
    .withAdminRoutes((router, ctx) => installSalesforceAdmin(router, ctx));
}
