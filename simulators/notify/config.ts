// Everything configurable about the notify simulator, each option with its default beside it,
// validated once when the simulator is created: a mistake is a PW_SIM_BAD_CONFIG naming the
// option, never a simulator that misbehaves later.
import { z } from 'zod';
import { outboundUrlProblem, SimulatorError, type SimulatorFactoryOptions } from '../kit/index.ts';
import { type DeliveryRuleInput, defaultDeliveryRules } from './delivery-rules.ts';
import { type LatencySpec, latencySchema } from './latency.ts';

export interface NotifyOptions extends SimulatorFactoryOptions {
  smtp?: {
    /** Port of the SMTP server, on the HTTP server's host; default 0 (a free one), or `NOTIFY_SMTP_PORT`. */
    port?: number;
    /** Accepted logins; default none: any login is accepted. */
    users?: { username: string; password: string }[];
    /** Refuse mail from a client that did not log in; default false (AUTH is optional). */
    authRequired?: boolean;
    /** Largest message; default 10 MiB. */
    maxSizeBytes?: number;
  };
  sendgrid?: {
    /** Accepted API keys; default any key that starts with `SG.`. */
    apiKeys?: string[];
  };
  twilio?: {
    /** Accounts and their auth tokens; default one, {@link defaultTwilioAccount}. */
    accounts?: { accountSid: string; authToken: string }[];
  };
  /** Time from acceptance to delivery, per channel; defaults in {@link defaultLatency}. */
  latency?: { email?: LatencySpec; sms?: LatencySpec };
  /** In force from the start and after every reset; default `bounce@*` bounces, `fail@*` is dropped. */
  deliveryRules?: DeliveryRuleInput[];
  /** Where delivery-status webhooks go (both can be set later with POST /_sim/webhooks). */
  webhooks?: {
    /** The SendGrid Event Webhook URL, for email sent by any API; default none. */
    email?: string;
    /** The status callback of SMS sent without a `StatusCallback` parameter; default none. */
    sms?: string;
  };
  /**
   * Send webhooks to hosts other than this machine's loopback (127.0.0.0/8, ::1, localhost);
   * default false: such URLs are refused in `webhooks`, `StatusCallback` and POST /_sim/webhooks.
   */
  allowExternalWebhooks?: boolean;
  /** Retries of a webhook whose receiver fails (non-2xx or no answer). */
  webhookRetry?: {
    /** Attempts in all; default 4. */
    attempts?: number;
    /** Wait before the first retry, doubling after each; default 200 ms. */
    backoffMs?: number;
    /** How long one attempt may take; default 5,000 ms. */
    timeoutMs?: number;
  };
  /** Messages kept; the oldest go first; default 10,000. */
  mailboxLimit?: number;
}

export const defaultTwilioAccount = {
  accountSid: 'AC00000000000000000000000000000000',
  authToken: 'planewright-twilio-auth-token',
};

/** Quick enough for tests, heavy-tailed enough to shake out ordering assumptions. */
export const defaultLatency = {
  email: { lognormal: { medianMs: 20, p99Ms: 200 } },
  sms: { lognormal: { medianMs: 40, p99Ms: 400 } },
} satisfies Record<string, LatencySpec>;

const url = z.url({ protocol: /^https?$/, error: 'give an http(s) URL' });
const port = z.number().int().min(0).max(65_535);

const optionsSchema = z.strictObject({
  smtp: z
    .strictObject({
      port: port.default(0),
      users: z.array(z.strictObject({ username: z.string().min(1), password: z.string() })).default([]),
      authRequired: z.boolean().default(false),
      maxSizeBytes: z
        .number()
        .int()
        .min(1024)
        .default(10 * 1024 * 1024),
    })
    .default({ port: 0, users: [], authRequired: false, maxSizeBytes: 10 * 1024 * 1024 }),
  sendgrid: z.strictObject({ apiKeys: z.array(z.string().min(1)).optional() }).default({}),
  twilio: z
    .strictObject({
      accounts: z
        .array(
          z.strictObject({
            accountSid: z.string().regex(/^AC\w{32}$/, 'an account SID is AC and 32 letters or digits'),
            authToken: z.string().min(1),
          }),
        )
        .min(1)
        .default([defaultTwilioAccount]),
    })
    .default({ accounts: [defaultTwilioAccount] }),
  latency: z
    .strictObject({
      email: latencySchema.default(defaultLatency.email),
      sms: latencySchema.default(defaultLatency.sms),
    })
    .default(defaultLatency),
  deliveryRules: z.array(z.unknown()).default(defaultDeliveryRules),
  webhooks: z.strictObject({ email: url.optional(), sms: url.optional() }).default({}),
  allowExternalWebhooks: z.boolean().default(false),
  webhookRetry: z
    .strictObject({
      attempts: z.number().int().min(1).max(20).default(4),
      backoffMs: z.number().min(0).max(60_000).default(200),
      timeoutMs: z.number().min(1).max(60_000).default(5_000),
    })
    .default({ attempts: 4, backoffMs: 200, timeoutMs: 5_000 }),
  mailboxLimit: z.number().int().min(1).default(10_000),
});

/** The options with every default filled in; delivery rules are checked by {@link DeliveryRules}. */
export type NotifyConfig = Omit<z.output<typeof optionsSchema>, 'deliveryRules'> & {
  deliveryRules: DeliveryRuleInput[];
};

/** Fills in defaults and checks every option; `NOTIFY_SMTP_PORT` applies when `smtp.port` is not given. */
export function resolveNotifyConfig(
  options: NotifyOptions,
  env: Record<string, string | undefined> = process.env,
): NotifyConfig {
  const { seed: _seed, logLevel: _logLevel, ...rest } = options;
  const envPort = env.NOTIFY_SMTP_PORT;
  const smtp = rest.smtp?.port === undefined && envPort ? { ...rest.smtp, port: Number(envPort) } : rest.smtp;
  const result = optionsSchema
    .superRefine((options, check) => {
      for (const key of ['email', 'sms'] as const) {
        const target = options.webhooks[key];
        const allowExternal = options.allowExternalWebhooks;
        const problem = target === undefined ? null : outboundUrlProblem(target, { allowExternal });
        if (problem) check.addIssue({ code: 'custom', path: ['webhooks', key], message: problem });
      }
    })
    .safeParse({ ...rest, smtp });
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new SimulatorError(
      'PW_SIM_BAD_CONFIG',
      `the notify simulator's options are not valid: ${issues.join('; ')}`,
      'see docs/simulators.md#notify-email-and-sms for every option and its default',
    );
  }
  return result.data as NotifyConfig;
}
