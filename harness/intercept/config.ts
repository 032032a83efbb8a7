// What the preload intercepts and where it sends it, read once from the environment (the process
// under test gets no other channel) and checked at the edge: a typo fails at start-up, naming the
// field, instead of letting a request reach the real vendor.
import { z } from 'zod';
import { PlanewrightError } from '../errors.ts';

/** The variable holding the targets as JSON ({@link InterceptTargets}). */
export const interceptVariable = 'PLANEWRIGHT_INTERCEPT';
/** pino level of the preload's log on stderr; `debug` logs one line per interception. Default `info`. */
export const logLevelVariable = 'PLANEWRIGHT_INTERCEPT_LOG_LEVEL';
/** `1`: the preload writes its counters as one JSON line on stderr when the process exits. */
export const statsVariable = 'PLANEWRIGHT_INTERCEPT_STATS';

export const simulatorNames = ['stripe', 'salesforce', 'auth', 'notify'] as const;
export type SimulatorName = (typeof simulatorNames)[number];

/**
 * The vendors' real hosts, per simulator. `*.example.com` matches every name under example.com
 * (any depth), not example.com itself. Only the simulators given a URL are intercepted.
 */
export const defaultVendorHosts: Readonly<Record<SimulatorName, readonly string[]>> = {
  stripe: ['api.stripe.com', 'files.stripe.com', 'uploads.stripe.com', 'connect.stripe.com'],
  salesforce: ['login.salesforce.com', 'test.salesforce.com', '*.my.salesforce.com'],
  auth: ['*.auth0.com'],
  notify: ['api.sendgrid.com', 'api.twilio.com', '*.twilio.com'],
};

/** Where requests to the vendors' hosts go: what `PLANEWRIGHT_INTERCEPT` holds, as JSON. */
export interface InterceptTargets {
  /** The Stripe simulator's base URL, e.g. `http://127.0.0.1:4010`. Default: Stripe is not intercepted. */
  stripe?: string;
  /** The Salesforce simulator's base URL. Default: not intercepted. */
  salesforce?: string;
  /** The auth simulator's base URL (`*.auth0.com`; add a custom domain in `hosts`). Default: not intercepted. */
  auth?: string;
  /** The notify simulator's base URL (SendGrid and Twilio). Default: not intercepted. */
  notify?: string;
  /**
   * More host patterns, or overrides of the defaults: each to a simulator named above, an http(s)
   * base URL, or `passthrough` (not intercepted). Default none.
   * @example { "login.example.com": "auth", "connect.stripe.com": "passthrough" }
   */
  hosts?: Record<string, string>;
  /** Largest request body forwarded, in bytes; a larger one fails as a network error. Default 32 MiB. */
  maxBodyBytes?: number;
  /** How long to wait for the simulator's response headers. Default 60 000 ms. */
  responseTimeoutMs?: number;
}

/** One host pattern and where it goes; `target` null passes the request through. */
export interface InterceptRoute {
  pattern: string;
  /** The simulator's name, or the target's origin for a URL given in `hosts`. */
  simulator: string;
  target: URL | null;
}

export interface InterceptConfig {
  routes: InterceptRoute[];
  maxBodyBytes: number;
  responseTimeoutMs: number;
}

const baseUrl = z
  .url({ protocol: /^https?$/, error: 'an http(s) URL such as http://127.0.0.1:4010' })
  // checks run after a failed format check too: only judge what parses
  .refine((value) => !URL.canParse(value) || !/[?#]/.test(value), 'a base URL without ?query or #hash');
const hostPattern = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/,
    'a lowercase host name, optionally starting with *. (as *.auth0.com)',
  );

const schema = z.strictObject({
  stripe: baseUrl.optional(),
  salesforce: baseUrl.optional(),
  auth: baseUrl.optional(),
  notify: baseUrl.optional(),
  hosts: z.record(hostPattern, z.union([z.enum([...simulatorNames, 'passthrough']), baseUrl])).default({}),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  responseTimeoutMs: z.number().int().positive().default(60_000),
});

/** Checks `targets` and builds the route table; throws `PW_INTERCEPT_BAD_CONFIG` naming the field. */
export function resolveInterceptConfig(targets: unknown, source = interceptVariable): InterceptConfig {
  const parsed = schema.safeParse(targets);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${[source, ...issue.path.map(String)].join('.')}: ${issue.message}`)
      .join('; ');
    throw badConfig(problems);
  }
  const options = parsed.data;
  const byPattern = new Map<string, InterceptRoute>();
  for (const name of simulatorNames) {
    const url = options[name];
    if (!url) continue;
    for (const pattern of defaultVendorHosts[name]) {
      byPattern.set(pattern, { pattern, simulator: name, target: new URL(url) });
    }
  }
  // overrides go after the defaults, so they win
  for (const [pattern, to] of Object.entries(options.hosts)) {
    byPattern.set(pattern, routeTo(pattern, to, options, source));
  }
  const routes = [...byPattern.values()];
  for (const { simulator, target } of routes) {
    const loop = target ? routeFor(routes, target.hostname) : undefined;
    if (target && loop?.target) {
      throw badConfig(
        `${source}: ${simulator}'s URL ${target.origin} is itself an intercepted host (${loop.pattern})`,
      );
    }
  }
  return { routes, maxBodyBytes: options.maxBodyBytes, responseTimeoutMs: options.responseTimeoutMs };
}

/** The configuration in `env` (`PLANEWRIGHT_INTERCEPT`), or undefined when it is unset or empty. */
export function interceptConfigFromEnv(env: NodeJS.ProcessEnv = process.env): InterceptConfig | undefined {
  const text = env[interceptVariable]?.trim();
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badConfig(`${interceptVariable} is not JSON (${(error as Error).message})`);
  }
  return resolveInterceptConfig(json);
}

/**
 * The route for a host name: an exact pattern first, then the most specific `*.` pattern.
 * @example routeFor(routes, 'acme.my.salesforce.com')?.simulator // 'salesforce'
 */
export function routeFor(routes: readonly InterceptRoute[], hostname: string): InterceptRoute | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const exact = routes.find((route) => route.pattern === host);
  if (exact) return exact;
  const labels = host.split('.');
  for (let i = 1; i < labels.length; i++) {
    const wildcard = `*.${labels.slice(i).join('.')}`;
    const match = routes.find((route) => route.pattern === wildcard);
    if (match) return match;
  }
  return undefined;
}

function routeTo(
  pattern: string,
  to: string,
  options: z.infer<typeof schema>,
  source: string,
): InterceptRoute {
  if (to === 'passthrough') return { pattern, simulator: 'passthrough', target: null };
  if ((simulatorNames as readonly string[]).includes(to)) {
    const url = options[to as SimulatorName];
    if (!url)
      throw badConfig(`${source}.hosts.${pattern}: names ${to}, which has no URL; set ${source}.${to}`);
    return { pattern, simulator: to, target: new URL(url) };
  }
  const target = new URL(to);
  return { pattern, simulator: target.origin, target };
}

function badConfig(problem: string) {
  return new PlanewrightError(
    'PW_INTERCEPT_BAD_CONFIG',
    problem,
    `fix ${interceptVariable} (JSON, see docs/intercept.md), e.g. {"stripe":"http://127.0.0.1:4010"}`,
  );
}
