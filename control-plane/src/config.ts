import { z } from 'zod';
import { parseSigningKey } from './dataplane/signing.ts';

const boolean = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const cells = z
  .string()
  .regex(/^[a-z0-9-]+:\d+(,[a-z0-9-]+:\d+)*$/, 'expected "id:capacity[,id:capacity…]", e.g. "cell-1:1000"')
  .transform((value) =>
    value.split(',').map((entry) => {
      const [id, capacity] = entry.split(':');
      return { id: id!, capacity: Number(capacity) };
    }),
  );

const keyEncryptionKey = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
  .transform((value) => Buffer.from(value, 'base64'));

// parsed once here, so a bad key stops start-up; a KeyObject also prints as {} should config be logged
const eventSigningKey = z.string().transform((value, ctx) => {
  try {
    return parseSigningKey(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Every setting of the control plane, read from the environment; each has its default beside it. */
const settings = z.object({
  /** Port to listen on; 0 picks a free one. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** JWKS of the auth provider; user JWTs are verified against it. */
  AUTH_JWKS_URL: z.url(),
  /** Expected `iss` of user JWTs: a token the provider issued elsewhere is refused. */
  AUTH_ISSUER: z.string().min(1),
  /** Expected `aud` of user JWTs: a token the provider signed for another API is refused. */
  AUTH_AUDIENCE: z.string().min(1),
  /** Key-encryption key for customer secrets: 32 bytes, base64. */
  SECRETS_KEK: keyEncryptionKey,
  SECRETS_KEK_ID: z.string().min(1).default('kek-1'),
  /** Bearer token of the platform-operator API under /v1/admin; that API is off when unset. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Test mode: exposes POST /v1/admin/clock to move the flow clock forward. Never in production. */
  TEST_MODE: boolean.default(false),
  /** Data-plane cells and their capacity in resources. */
  CELLS: cells.default([{ id: 'cell-1', capacity: 1000 }]),
  INVITATION_TTL_HOURS: z.coerce.number().positive().default(168),
  FLOW_WORKER_ENABLED: boolean.default(true),
  FLOW_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  FLOW_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  FLOW_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  FLOW_RETRY_BASE_MS: z.coerce.number().int().min(1).default(200),
  FLOW_RETRY_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  /** Safety-net sweep for runnable flows; the happy path is woken by LISTEN/NOTIFY. */
  FLOW_SWEEP_MS: z.coerce.number().int().min(10).default(1_000),
  /** A flow in one state longer than this counts as stuck in metrics and the admin API. */
  FLOW_STUCK_AFTER_MS: z.coerce.number().int().min(1).default(300_000),
  /** How long a provisioning flow waits for the data plane before it fails. */
  PROVISION_TIMEOUT_MS: z.coerce.number().int().min(1).default(600_000),
  /** How long a deleted organization's metadata is kept (flow clock) before it is purged; the audit log stays. */
  TENANT_RETENTION_MS: z.coerce.number().int().min(0).default(2_592_000_000), // 30 days
  /** Dunning: how long after a failed renewal (flow clock) the organization's data plane is suspended unless paid. */
  BILLING_GRACE_PERIOD_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600 * 1000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Ed25519 private key (PKCS8 PEM, or its DER in base64) that signs data-plane events. Required
   * unless TEST_MODE, which generates one at start: agents pin the public key, so only tests can. */
  EVENT_SIGNING_KEY: eventSigningKey.optional(),
  /** How often old outbox events are pruned; 0 turns pruning off. */
  OUTBOX_PRUNE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Outbox events older than this are pruned; an agent further behind re-hydrates from a snapshot. */
  OUTBOX_RETENTION_MS: z.coerce.number().int().min(1).default(86_400_000),
  /** The newest events of each cell kept whatever their age (at least 1, so sequences continue). */
  OUTBOX_KEEP_PER_CELL: z.coerce.number().int().min(1).default(100),
  /** Requests per second each agent may make to the gateway (a token bucket's refill rate). */
  AGENT_RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(5),
  /** Requests an agent may make at once after being quiet (the token bucket's size). */
  AGENT_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(20),
  /** Snapshots built at once across all agents; more are answered 429 with Retry-After. */
  AGENT_SNAPSHOT_CONCURRENCY: z.coerce.number().int().min(1).default(16),
  /** How long a one-time agent bootstrap token stays valid unless the operator asks otherwise. */
  AGENT_BOOTSTRAP_TTL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Agent-gateway requests per second across all agents of this process; more get 429 + Retry-After. */
  AGENT_GLOBAL_RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(2_000),
  /** Agent registrations per second across this process (each costs a bootstrap-token transaction). */
  AGENT_REGISTER_RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(50),
  /** Long-polls waiting at once in this process; more are answered 429 with Retry-After. */
  AGENT_MAX_WAITERS: z.coerce.number().int().min(1).default(50_000),
  /** How often the reconciler runs a pass; 0 turns the timer off (POST /v1/admin/reconciler/run still works). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
  /** A resource whose desired generation is not observed this long after it changed is stuck. */
  RECONCILE_STUCK_AFTER_MS: z.coerce.number().int().min(1).default(120_000),
  /** An agent without a heartbeat for this long is stale. */
  RECONCILE_STALE_AGENT_MS: z.coerce.number().int().min(1).default(60_000),
  /** Re-sends of a drifted or stuck resource before the reconciler marks it unresolved. */
  RECONCILE_MAX_RESYNCS: z.coerce.number().int().min(0).default(5),
  /** Wait before the second re-send; doubles after each. */
  RECONCILE_RESYNC_BACKOFF_MS: z.coerce.number().int().min(1).default(5_000),
  /** Re-sends after an `internal` apply error before a provisioning flow fails (customer errors: none). */
  PROVISION_INTERNAL_RETRIES: z.coerce.number().int().min(0).default(5),
  /** Wait before the first re-send after an internal apply error; doubles after each, up to FLOW_RETRY_MAX_MS. */
  PROVISION_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1_000),
  /** Where the customer-facing app lives: links in emails (invitations, password resets) point there. */
  APP_URL: z.url().default('http://localhost:3000'),
  /** Stripe (billing flows): the secret key; without it the billing flows are off. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** The `whsec_…` secret Stripe signs webhooks to /v1/webhooks/stripe with. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Another Stripe API base (a simulator); default Stripe's own host. */
  STRIPE_API_URL: z.url().optional(),
  /** Salesforce (CRM flows), OAuth 2.0 username-password flow of a connected app. */
  SALESFORCE_LOGIN_URL: z.url().default('https://login.salesforce.com'),
  SALESFORCE_CLIENT_ID: z.string().min(1).optional(),
  SALESFORCE_CLIENT_SECRET: z.string().min(1).optional(),
  SALESFORCE_USERNAME: z.string().min(1).optional(),
  SALESFORCE_PASSWORD: z.string().min(1).optional(),
  /** The auth provider's Management API (Auth0's): tenant domain and a machine-to-machine app. */
  AUTH_MANAGEMENT_DOMAIN: z.string().min(1).optional(),
  AUTH_MANAGEMENT_CLIENT_ID: z.string().min(1).optional(),
  AUTH_MANAGEMENT_CLIENT_SECRET: z.string().min(1).optional(),
  /** The Management API's audience; default `https://<domain>/api/v2/`. */
  AUTH_MANAGEMENT_AUDIENCE: z.string().min(1).optional(),
  /** The application invitees sign in to (Auth0 organization invitations name it); default AUTH_MANAGEMENT_CLIENT_ID. */
  AUTH_APP_CLIENT_ID: z.string().min(1).optional(),
  /** Email (SendGrid) and SMS (Twilio). */
  SENDGRID_API_KEY: z.string().min(1).optional(),
  NOTIFY_FROM_EMAIL: z.email().default('no-reply@planewright.dev'),
  TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_FROM_NUMBER: z.string().min(1).optional(),
  /** Bound of every call to a vendor. */
  VENDOR_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().default('planewright-control-plane'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The settings, and the rules that tie several together. */
export const configSchema = settings.refine(
  (config) => config.TEST_MODE === true || config.EVENT_SIGNING_KEY !== undefined,
  {
    path: ['EVENT_SIGNING_KEY'],
    message: 'is required unless TEST_MODE=true: an Ed25519 private key, PKCS8 PEM or base64 DER',
    // reported together with every other bad value, not only once they are fixed
    when: () => true,
  },
);

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `PW_CONFIG_INVALID: the control plane's configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates the environment once, at start-up; the error names every bad or missing value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}: ${issue.code === 'invalid_type' && input[name] === undefined ? 'is required' : issue.message}`;
      }),
    );
  }
  return parsed.data;
}
