// The environment builder (issue 6, item 1): starts what a test or `planewright up` asks for —
// Postgres, the control plane as a child process, the four vendor simulators, a fleet of agents
// over cells — wires them by configuration only (URLs, keys, secrets), as a deployment would, and
// returns one handle that stops everything, newest first. Each component's readiness is awaited;
// one that does not come up fails with an error naming it (the control plane's with its last log
// lines).
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { migrate, parseSigningKey } from '../../control-plane/index.ts';
import {
  APP_CLIENT,
  type AuthState,
  createAuthSimulator,
  DEFAULT_API,
  M2M_CLIENT,
} from '../../simulators/auth/index.ts';
import { type Fleet, type FleetOptions, startFleet } from '../../simulators/fleet/index.ts';
import type { LogLevel, StartedSimulator } from '../../simulators/kit/index.ts';
import {
  createNotifySimulator,
  defaultTwilioAccount,
  type StartedNotifySimulator,
} from '../../simulators/notify/index.ts';
import { createSalesforceSimulator, type SalesforceState } from '../../simulators/salesforce/index.ts';
import { createStripeSimulator, type StripeSimulatorState } from '../../simulators/stripe/index.ts';
import { PlanewrightError } from '../errors.ts';
import { type StartedFaultProxy, startFaultProxy } from '../faults/proxy/index.ts';
import { interceptArgs } from '../intercept/index.ts';
import { type StartedTraceCollector, startTraceCollector } from '../traces/index.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from './control-plane-process.ts';
import {
  cloneDatabase,
  createEmptyDatabase,
  dropDatabase,
  freePort,
  type StartedPostgres,
  startPostgres,
  stopPostgres,
} from './postgres.ts';
import { traceSimulatorsTo } from './simulator-tracing.ts';

export type SimulatorName = 'stripe' | 'salesforce' | 'auth' | 'notify';
export const simulatorNames: readonly SimulatorName[] = ['stripe', 'salesforce', 'auth', 'notify'];

export interface EnvironmentOptions {
  /** Seeds every simulator and the fleet; default: a random one, recorded in `env.seed`. */
  seed?: number;
  /**
   * A Postgres already running (a test worker's) and a migrated template to clone the
   * environment's database from. Default: an embedded Postgres started (and stopped) for it.
   */
  postgres?: { server: StartedPostgres; template?: string } | { databaseUrl: string };
  /** Lines the embedded Postgres writes (when this environment starts one). */
  onPostgresLog?: (line: string) => void;
  /** Vendor simulators to start (in this process). Default: all four. */
  simulators?: readonly SimulatorName[];
  /** The control plane as a child process; `false` for none. `env` overrides its settings. */
  controlPlane?: false | { env?: Record<string, string | undefined>; port?: number };
  /** Cells of the control plane, each `id:capacity`. Default: cell-1 and cell-2, 1000 each. */
  cells?: string[];
  /**
   * An OTLP trace collector the control plane exports to (default on); `recordTo` also appends
   * every span to an OTLP JSON-lines file, `forwardTo` sends them on to Jaeger, Tempo or a collector.
   */
  traces?: false | { recordTo?: string; forwardTo?: string };
  /**
   * A fault proxy (Toxiproxy's API) between the fleet and the control plane: proxy `control-plane`.
   * Default: on when there is a fleet.
   */
  faultProxy?: boolean;
  /** A fleet of agents over the cells (in this process); default none. */
  fleet?: Omit<FleetOptions, 'url' | 'cells' | 'adminToken' | 'seed'> & { cells?: string[] };
  /** Called with one line per step, for progress output. */
  onProgress?: (message: string) => void;
  /** Called with every line the control plane writes. */
  onControlPlaneLine?: (line: string) => void;
}

export interface EnvironmentUser {
  email: string;
  /** The auth provider's subject (`auth0|…`). */
  sub: string;
  /** An access token for the control plane's API (audience and issuer as configured). */
  token: string;
}

export interface Environment extends AsyncDisposable {
  readonly seed: number;
  readonly databaseUrl: string;
  readonly controlPlane: ControlPlaneProcess | undefined;
  /** The platform operator's token (`/v1/admin/…`). */
  readonly adminToken: string;
  /** SPKI PEM of the key that signs data-plane events: agents pin it. */
  readonly eventPublicKeyPem: string;
  readonly stripe: StartedSimulator<StripeSimulatorState> | undefined;
  readonly salesforce: StartedSimulator<SalesforceState> | undefined;
  readonly auth: StartedSimulator<AuthState> | undefined;
  readonly notify: StartedNotifySimulator | undefined;
  readonly fleet: Fleet | undefined;
  /** The trace collector every component exports to, with its store. */
  readonly traces: StartedTraceCollector | undefined;
  /** The fault proxy; its proxy `control-plane` is the agents' way to the control plane. */
  readonly faultProxy: StartedFaultProxy | undefined;
  /** The URL agents use: the fault proxy's `control-plane` proxy, or the control plane itself. */
  readonly agentUrl: string | undefined;
  /** Milliseconds each component took to be ready, in start order. */
  readonly timings: Record<string, number>;
  /** Signs up a user at the auth simulator and returns an access token for the control plane. */
  newUser(name?: string): Promise<EnvironmentUser>;
  /** Every URL and credential a person needs to use the environment with curl (env.json). */
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * @example await using env = await startEnvironment({ fleet: { agentsPerCell: 1 } });
 */
export async function startEnvironment(options: EnvironmentOptions = {}): Promise<Environment> {
  const seed = options.seed ?? randomBytes(4).readUInt32BE() % 2 ** 31;
  const progress = options.onProgress ?? (() => {});
  const stack = new AsyncDisposableStack();
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, start: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    try {
      return await start();
    } catch (error) {
      if (error instanceof PlanewrightError) throw error;
      throw new PlanewrightError(
        'PW_ENV_COMPONENT_FAILED',
        `${name} did not start: ${(error as Error).message}`,
        `see ${name}'s error above; every other component was stopped`,
      );
    } finally {
      timings[name] = Math.round((performance.now() - began) * 10) / 10;
    }
  };
  try {
    const wanted = new Set(options.simulators ?? simulatorNames);
    const cells = options.cells ?? ['cell-1:1000', 'cell-2:1000'];

    // Postgres and the simulators start side by side
    progress('starting Postgres and the simulators…');
    const [database, sims] = await Promise.all([
      timed('postgres', async () => {
        if (options.postgres && 'databaseUrl' in options.postgres) {
          // the user's own database: migrated, never dropped or recreated
          const url = options.postgres.databaseUrl;
          await migrate(url);
          return url;
        }
        if (options.postgres) {
          const name = `pw_env_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
          const server = options.postgres.server;
          if (options.postgres.template) {
            const url = await cloneDatabase(server, options.postgres.template, name);
            stack.defer(() => dropDatabase(server, name));
            return url;
          }
          const url = await createEmptyDatabase(server, name);
          stack.defer(() => dropDatabase(server, name));
          await migrate(url);
          return url;
        }
        const server = await startPostgres({ onLog: options.onPostgresLog });
        stack.defer(() => stopPostgres(server));
        const url = await createEmptyDatabase(server, 'planewright');
        await migrate(url);
        return url;
      }),
      startSimulators(wanted, seed, stack, timed),
    ]);

    const given = options.controlPlane ? (options.controlPlane.env ?? {}) : {};
    let traces: StartedTraceCollector | undefined;
    if (options.traces !== false) {
      const traceOptions = options.traces ?? {};
      traces = await timed('traces', async () => {
        const started = await startTraceCollector({
          recordTo: traceOptions.recordTo,
          forwardTo: traceOptions.forwardTo ?? process.env.PLANEWRIGHT_TRACES_FORWARD_TO,
        });
        stack.defer(() => started.close());
        // the simulators of this process too (deferred after the close above, so it runs first)
        const simulatorTraces = await traceSimulatorsTo(started.url);
        stack.defer(() => simulatorTraces.stop());
        return started;
      });
    }

    const adminToken = given.ADMIN_TOKEN ?? `env-admin-${randomBytes(18).toString('base64url')}`;
    // agents pin the public half: generated for this environment unless the caller gives its own
    const signingKeyPem =
      given.EVENT_SIGNING_KEY ??
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const eventPublicKeyPem = createPublicKey(parseSigningKey(signingKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();

    let controlPlane: ControlPlaneProcess | undefined;
    if (options.controlPlane !== false) {
      progress('starting the control plane…');
      const auth = sims.auth;
      // requests the control plane's SDKs address to the vendors' real hosts reach the simulators
      const targets = Object.fromEntries(
        Object.entries(sims)
          .filter(([, sim]) => sim !== undefined)
          .map(([name, sim]) => [name, sim!.url]),
      );
      const intercept = Object.keys(targets).length > 0 ? interceptArgs(targets) : { execArgv: [], env: {} };
      // the port is chosen first: Stripe's webhook endpoint names it, and its secret is a setting
      const port = (options.controlPlane ? options.controlPlane.port : undefined) || (await freePort());
      const vendorEnv = await vendorSettings(sims, port);
      controlPlane = await timed('control-plane', async () => {
        const started = await startControlPlaneProcess({
          execArgv: intercept.execArgv,
          port,
          env: {
            // defaults, then the caller's settings, then what the environment's wiring decides
            SECRETS_KEK: randomBytes(32).toString('base64'),
            TEST_MODE: 'true',
            LOG_LEVEL: 'warn',
            CELLS: cells.join(','),
            ...vendorEnv,
            ...given,
            ...intercept.env,
            ...(traces ? traces.env : {}),
            HOST: '127.0.0.1',
            PORT: String(port),
            DATABASE_URL: database,
            // the auth provider: the simulator's, or a placeholder a test without users never calls
            AUTH_JWKS_URL: auth
              ? `${auth.url}/.well-known/jwks.json`
              : (given.AUTH_JWKS_URL ?? 'http://127.0.0.1:9/jwks.json'),
            AUTH_ISSUER: auth ? `${auth.url}/` : (given.AUTH_ISSUER ?? 'http://127.0.0.1:9/'),
            AUTH_AUDIENCE: auth ? DEFAULT_API.identifier : (given.AUTH_AUDIENCE ?? DEFAULT_API.identifier),
            EVENT_SIGNING_KEY: signingKeyPem,
            ADMIN_TOKEN: adminToken,
            PLANEWRIGHT_RELAUNCHED: undefined,
          },
          onLine: options.onControlPlaneLine,
        });
        stack.defer(() => started.stop());
        return started;
      });
    }

    let faultProxy: StartedFaultProxy | undefined;
    let agentUrl = controlPlane?.url;
    if (controlPlane && (options.faultProxy ?? options.fleet !== undefined)) {
      const upstream = new URL(controlPlane.url).host;
      faultProxy = await timed('fault-proxy', async () => {
        const started = await startFaultProxy({ seed });
        stack.defer(() => started.close());
        return started;
      });
      const proxy = await faultProxy.createProxy({ name: 'control-plane', listen: '127.0.0.1:0', upstream });
      agentUrl = `http://${proxy.listen}`;
    }

    let fleet: Fleet | undefined;
    if (options.fleet) {
      if (!controlPlane || !agentUrl)
        throw new PlanewrightError(
          'PW_ENV_BAD_OPTIONS',
          'a fleet needs the control plane',
          'drop `controlPlane: false`, or the fleet',
        );
      progress('starting the fleet…');
      const { cells: fleetCells, ...fleetOptions } = options.fleet;
      const url = agentUrl;
      fleet = await timed('fleet', async () => {
        const started = await startFleet({
          ...fleetOptions,
          url,
          cells: fleetCells ?? cells.map((cell) => cell.split(':')[0]!),
          adminToken,
          seed,
          agent: { pinnedPublicKeyPems: [eventPublicKeyPem], ...fleetOptions.agent },
        });
        stack.defer(() => started.stop());
        return started;
      });
    }

    let users = 0;
    const env: Environment = {
      seed,
      databaseUrl: database,
      controlPlane,
      adminToken,
      eventPublicKeyPem,
      stripe: sims.stripe,
      salesforce: sims.salesforce,
      auth: sims.auth,
      notify: sims.notify,
      fleet,
      faultProxy,
      agentUrl,
      traces,
      timings,
      async newUser(name = 'user') {
        const auth = sims.auth;
        if (!auth)
          throw new PlanewrightError(
            'PW_ENV_NO_AUTH',
            'users come from the auth simulator, which this environment did not start',
            "add 'auth' to `simulators`",
          );
        users += 1;
        const email = `${name}-${users}-${randomUUID().slice(0, 6)}@example.test`;
        const password = `Pw-${randomBytes(9).toString('base64url')}`;
        // the control plane reads `email` and `name` from the access token, as an Auth0 Action adds them
        auth.state.addUser(
          {
            email,
            password,
            name,
            email_verified: true,
            blocked: false,
            app_metadata: {},
            user_metadata: {},
            roles: [],
            permissions: [],
            claims: { email, name },
          },
          new Date(auth.clock.now()).toISOString(),
        );
        const response = await fetch(`${auth.url}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'password',
            username: email,
            password,
            client_id: APP_CLIENT.client_id,
            client_secret: APP_CLIENT.client_secret,
            audience: DEFAULT_API.identifier,
            scope: 'openid email profile',
          }),
        });
        const body = (await response.json()) as { access_token?: string; error_description?: string };
        if (!body.access_token)
          throw new PlanewrightError(
            'PW_ENV_USER',
            `the auth simulator refused a token: ${body.error_description}`,
          );
        const sub = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()).sub;
        return { email, sub, token: body.access_token };
      },
      describe() {
        return {
          seed,
          controlPlane: controlPlane && {
            url: controlPlane.url,
            openapi: `${controlPlane.url}/openapi.json`,
            pid: controlPlane.pid,
          },
          postgres: { url: database },
          simulators: Object.fromEntries(
            Object.entries(sims).map(([name, sim]) => [name, { url: sim!.url, admin: `${sim!.url}/_sim` }]),
          ),
          fleet: fleet && { agents: fleet.agents.length, url: agentUrl },
          faultProxy: faultProxy && { url: faultProxy.url, proxies: faultProxy.proxies() },
          traces: traces && { otlpEndpoint: traces.endpoint },
          tokens: { admin: adminToken },
          eventPublicKeyPem,
        };
      },
      stop: () => stack.disposeAsync(),
      [Symbol.asyncDispose]: () => stack.disposeAsync(),
    };
    return env;
  } catch (error) {
    await stack.disposeAsync().catch(() => {});
    throw error;
  }
}

/** Test tenant domain of the auth provider: `*.auth0.com` requests reach the simulator through interception. */
export const authTenantDomain = 'planewright-test.us.auth0.com';

/**
 * The control plane's vendor settings, as production would have them (the vendors' real hosts,
 * which the interception preload sends to the simulators), with the simulators' test credentials.
 * A Stripe webhook endpoint for the control plane is created at the simulator, for its secret.
 */
async function vendorSettings(
  sims: Awaited<ReturnType<typeof startSimulators>>,
  controlPlanePort: number,
): Promise<Record<string, string>> {
  const settings: Record<string, string> = { APP_URL: 'https://app.planewright.test' };
  if (sims.stripe) {
    const response = await fetch(`${sims.stripe.url}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stripeTestKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        url: `http://127.0.0.1:${controlPlanePort}/v1/webhooks/stripe`,
        'enabled_events[]': '*',
      }).toString(),
    });
    const endpoint = (await response.json()) as { secret?: string; error?: { message: string } };
    if (!endpoint.secret)
      throw new PlanewrightError(
        'PW_ENV_COMPONENT_FAILED',
        `the Stripe simulator refused the webhook endpoint: ${endpoint.error?.message}`,
      );
    Object.assign(settings, { STRIPE_SECRET_KEY: stripeTestKey, STRIPE_WEBHOOK_SECRET: endpoint.secret });
  }
  if (sims.salesforce)
    Object.assign(settings, {
      // by URL: jsforce's login through the interception preload fails when OpenTelemetry's http
      // instrumentation is loaded too (aborted request); see docs/intercept.md
      SALESFORCE_LOGIN_URL: sims.salesforce.url,
      SALESFORCE_CLIENT_ID: 'planewright-client',
      SALESFORCE_CLIENT_SECRET: 'planewright-secret',
      SALESFORCE_USERNAME: 'admin@planewright.test',
      SALESFORCE_PASSWORD: 'planewright',
    });
  if (sims.auth)
    Object.assign(settings, {
      AUTH_MANAGEMENT_DOMAIN: authTenantDomain,
      AUTH_MANAGEMENT_CLIENT_ID: M2M_CLIENT.client_id,
      AUTH_MANAGEMENT_CLIENT_SECRET: M2M_CLIENT.client_secret!,
      AUTH_MANAGEMENT_AUDIENCE: `${sims.auth.url}/api/v2/`,
      // the application invitations and password-change tickets send users back to
      AUTH_APP_CLIENT_ID: APP_CLIENT.client_id,
    });
  if (sims.notify)
    Object.assign(settings, {
      SENDGRID_API_KEY: 'SG.planewright-test.key',
      TWILIO_ACCOUNT_SID: defaultTwilioAccount.accountSid,
      TWILIO_AUTH_TOKEN: defaultTwilioAccount.authToken,
      TWILIO_FROM_NUMBER: '+15005550006',
    });
  return settings;
}

/** The Stripe secret key the environment's control plane uses (any `sk_test_` key works at the simulator). */
export const stripeTestKey = 'sk_test_planewright_environment';

async function startSimulators(
  wanted: Set<SimulatorName>,
  seed: number,
  stack: AsyncDisposableStack,
  timed: <T>(name: string, start: () => Promise<T>) => Promise<T>,
) {
  // simulators share this process's output: their request logs only when asked for
  const logLevel = (process.env.PLANEWRIGHT_SIM_LOG_LEVEL ?? 'warn') as LogLevel;
  const start = async <T extends { stop(): Promise<void> }>(name: SimulatorName, run: () => Promise<T>) => {
    if (!wanted.has(name)) return undefined;
    const started = await timed(name, run);
    stack.defer(() => started.stop());
    return started;
  };
  const [stripe, salesforce, auth, notify] = await Promise.all([
    start('stripe', () => createStripeSimulator({ seed, logLevel }).start()),
    start('salesforce', () => createSalesforceSimulator({ seed, logLevel }).start()),
    start('auth', () => createAuthSimulator({ seed, logLevel }).start()),
    start('notify', () => createNotifySimulator({ seed, logLevel }).start()),
  ]);
  return { stripe, salesforce, auth, notify };
}
