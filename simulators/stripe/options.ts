// The Stripe simulator's options, each with its default, validated once here at the edge: a typo
// in a test's options is a clear error at construction, not a simulator that quietly misbehaves.
import { z } from 'zod';
import { type LogLevel, SimulatorError, type SimulatorFactoryOptions } from '../kit/index.ts';
import { fastRetryPolicy, type RetryPolicy } from './webhook-delivery.ts';
import { parseWebhookFaults, type WebhookFaultsInput } from './webhook-faults.ts';

export interface StripeSimulatorOptions extends SimulatorFactoryOptions {
  /**
   * The simulator clock, which objects without a test clock live on. Default: starts now and runs
   * with real time (plus whatever `/_sim/clock` advanced it by). `frozen: true` moves it only when
   * advanced, so times are exact; webhook retries then wait for an advance too.
   */
  clock?: { start?: Date | number | string; frozen?: boolean };
  /** Retries of failed webhook deliveries. Default `fastRetryPolicy`: 0.5 s, 1 s, 2 s, 4 s, then given up. */
  webhookRetry?: RetryPolicy;
  /** How long one delivery waits for the receiver's answer. Default 10,000 ms. */
  webhookTimeoutMs?: number;
  /** Duplicate or reorder outgoing webhooks, from the start and again after each reset. Default none. */
  webhookFaults?: WebhookFaultsInput;
  /**
   * Let webhook endpoints point at hosts other than this machine's loopback (127.0.0.0/8, ::1,
   * localhost). Default false: such a URL is refused with Stripe's 400 `url_invalid`.
   */
  allowExternalWebhooks?: boolean;
  /**
   * How long each API write spends "processing" while holding its idempotency key, like Stripe's
   * own latency. Default 0; raise it to provoke `idempotency_key_in_use` with concurrent requests.
   */
  processingMs?: number;
  /** Days after a failed invoice payment when it is retried. Default [3, 5, 7]. */
  invoiceRetryDays?: number[];
  /** A subscription's status once its last invoice retry failed. Default `past_due`. */
  afterFinalFailure?: 'past_due' | 'unpaid' | 'canceled';
  /** Events kept (oldest dropped). Default 100,000. */
  maxEvents?: number;
  /** Webhook deliveries kept (finished ones dropped first). Default 10,000. */
  maxDeliveries?: number;
  /** Webhook attempts kept for `/_sim/webhooks` and `/_sim/state`. Default 10,000. */
  maxWebhookAttempts?: number;
  /** Idempotency keys kept (24 hours each, oldest dropped first). Default 100,000. */
  maxIdempotencyKeys?: number;
}

export interface ResolvedStripeOptions {
  seed: number;
  logLevel: LogLevel | undefined;
  clock: { start: Date | number | string | undefined; frozen: boolean };
  webhookRetry: RetryPolicy;
  webhookTimeoutMs: number;
  webhookFaults: WebhookFaultsInput;
  allowExternalWebhooks: boolean;
  processingMs: number;
  invoiceRetryDays: number[] | undefined;
  afterFinalFailure: 'past_due' | 'unpaid' | 'canceled' | undefined;
  maxEvents: number | undefined;
  maxDeliveries: number | undefined;
  maxWebhookAttempts: number;
  maxIdempotencyKeys: number;
}

const count = z.number().int().min(1).max(10_000_000);
const schema = z.strictObject({
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  clock: z
    .strictObject({
      start: z.union([z.date(), z.number(), z.string()]).optional(),
      frozen: z.boolean().optional(),
    })
    .optional(),
  webhookRetry: z
    .strictObject({
      initialDelayMs: z.number().min(0).max(86_400_000),
      multiplier: z.number().min(1).max(100),
      maxDelayMs: z
        .number()
        .min(0)
        .max(7 * 86_400_000),
      maxAttempts: z.number().int().min(1).max(100),
      jitter: z.number().min(0).max(1),
    })
    .optional(),
  webhookTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  webhookFaults: z.unknown().optional(),
  allowExternalWebhooks: z.boolean().optional(),
  processingMs: z.number().min(0).max(60_000).optional(),
  invoiceRetryDays: z.array(z.number().int().min(1).max(60)).max(10).optional(),
  afterFinalFailure: z.enum(['past_due', 'unpaid', 'canceled']).optional(),
  maxEvents: count.optional(),
  maxDeliveries: count.optional(),
  maxWebhookAttempts: count.optional(),
  maxIdempotencyKeys: count.optional(),
});

/** Checks the options and fills in defaults; throws `PW_SIM_BAD_CONFIG` naming each mistake. */
export function resolveOptions(options: StripeSimulatorOptions): ResolvedStripeOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new SimulatorError(
      'PW_SIM_BAD_CONFIG',
      `bad Stripe simulator options: ${issues.join('; ')}`,
      'see docs/simulators.md#stripe for every option and its default',
    );
  }
  const o = parsed.data;
  return {
    // chosen here rather than by the kit, so the account's ids are seeded by the same number
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
    logLevel: o.logLevel,
    clock: { start: o.clock?.start, frozen: o.clock?.frozen ?? false },
    webhookRetry: o.webhookRetry ?? fastRetryPolicy,
    webhookTimeoutMs: o.webhookTimeoutMs ?? 10_000,
    webhookFaults: webhookFaultsOption(o.webhookFaults),
    allowExternalWebhooks: o.allowExternalWebhooks ?? false,
    processingMs: o.processingMs ?? 0,
    invoiceRetryDays: o.invoiceRetryDays,
    afterFinalFailure: o.afterFinalFailure,
    maxEvents: o.maxEvents,
    maxDeliveries: o.maxDeliveries,
    maxWebhookAttempts: o.maxWebhookAttempts ?? 10_000,
    maxIdempotencyKeys: o.maxIdempotencyKeys ?? 100_000,
  };
}

function webhookFaultsOption(input: unknown): WebhookFaultsInput {
  try {
    return parseWebhookFaults(input ?? {});
  } catch (error) {
    const message = (error as SimulatorError).message.replace(/^PW_SIM_BAD_INPUT: /, '');
    throw new SimulatorError('PW_SIM_BAD_CONFIG', `bad Stripe simulator options: webhookFaults: ${message}`);
  }
}
