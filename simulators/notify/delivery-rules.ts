// What happens to a message after it is accepted: delivered, bounced or failed, and after how
// long. Rules match on recipient pattern, channel and API; the newest rule that says an outcome
// decides the outcome, and the newest that says a latency decides the latency, so a test can slow
// one channel down without undoing the default `bounce@*` rule. `reset` brings back the defaults.
import { z } from 'zod';
import { SimulatorError } from '../kit/index.ts';
import { type LatencySpec, latencySchema } from './latency.ts';
import { recipientMatcher } from './recipients.ts';

export type Channel = 'email' | 'sms';
export type Api = 'smtp' | 'sendgrid' | 'twilio';
export type Outcome = 'deliver' | 'bounce' | 'fail';

const patterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const ruleSchema = z.strictObject({
  /** Letters, digits, `_`, `-` and `.`; default `delivery_<n>`. */
  id: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'use 1 to 64 letters, digits, "_", "-" or "."')
    .optional(),
  match: z
    .strictObject({
      /** Recipient patterns, `*` for any text: `bounce@*`, `*@example.test`, `+1555*`. */
      to: patterns.optional(),
      channel: z.enum(['email', 'sms']).optional(),
      via: z.enum(['smtp', 'sendgrid', 'twilio']).optional(),
    })
    .optional(),
  /** `bounce`: email bounces, SMS is undelivered; `fail`: email is dropped, SMS fails. */
  outcome: z.enum(['deliver', 'bounce', 'fail']).optional(),
  latency: latencySchema.optional(),
  /** The bounce or drop reason of the email event. */
  reason: z.string().min(1).optional(),
  /** The SMS `ErrorCode` (Twilio's 30003 unreachable handset, 30008 unknown error, …). */
  errorCode: z.number().int().min(1).optional(),
  /** The rule decides at most this many messages. */
  count: z.number().int().min(1).optional(),
});

export type DeliveryRuleInput = z.input<typeof ruleSchema>;

export interface DeliveryRule extends z.output<typeof ruleSchema> {
  id: string;
  fired: number;
  isDefault: boolean;
}

/** What one message gets: its outcome and its delay, and the rules that said so. */
export interface DeliveryPlan {
  outcome: Outcome;
  latency: LatencySpec | undefined;
  reason: string | undefined;
  errorCode: number | undefined;
  outcomeRule: string | null;
  latencyRule: string | null;
}

type Compiled = { rule: DeliveryRule; matches: (m: { channel: Channel; via: Api; to: string }) => boolean };

/** Out of the box, as the well-known test addresses of mail sinks behave. */
export const defaultDeliveryRules: DeliveryRuleInput[] = [
  { id: 'bounce-address', match: { to: 'bounce@*', channel: 'email' }, outcome: 'bounce' },
  { id: 'fail-address', match: { to: 'fail@*', channel: 'email' }, outcome: 'fail' },
];

export class DeliveryRules {
  readonly #defaults: DeliveryRuleInput[];
  #rules: Compiled[] = [];
  #nextId = 1;

  constructor(defaults: DeliveryRuleInput[]) {
    this.#defaults = parseDeliveryRules(defaults);
    this.reset();
  }

  /** Adds rules (newest first in precedence); throws PW_SIM_BAD_RULE naming every mistake. */
  add(body: unknown, isDefault = false): DeliveryRule[] {
    const inputs = parseDeliveryRules(body);
    const taken = new Set(this.#rules.map(({ rule }) => rule.id));
    for (const input of inputs) {
      const id = input.id ?? `delivery_${this.#nextId++}`;
      if (taken.has(id)) throw badRule(`there is already a delivery rule "${id}"`);
      taken.add(id);
      const rule: DeliveryRule = { ...input, id, fired: 0, isDefault };
      this.#rules.unshift({ rule, matches: compileMatch(input.match) });
    }
    return this.list();
  }

  list(): DeliveryRule[] {
    return this.#rules.map(({ rule }) => ({ ...rule }));
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter(({ rule }) => rule.id !== id);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
  }

  reset(): void {
    this.#rules = [];
    this.#nextId = 1;
    this.add(this.#defaults, true);
  }

  /** The plan for one message; spends the count of every rule that contributed to it. */
  decide(message: { channel: Channel; via: Api; to: string }): DeliveryPlan {
    const live = this.#rules.filter(
      ({ rule, matches }) => (rule.count === undefined || rule.fired < rule.count) && matches(message),
    );
    const outcomeRule = live.find(({ rule }) => rule.outcome !== undefined)?.rule;
    const latencyRule = live.find(({ rule }) => rule.latency !== undefined)?.rule;
    for (const rule of new Set([outcomeRule, latencyRule])) if (rule) rule.fired++;
    return {
      outcome: outcomeRule?.outcome ?? 'deliver',
      latency: latencyRule?.latency,
      reason: outcomeRule?.reason,
      errorCode: outcomeRule?.errorCode,
      outcomeRule: outcomeRule?.id ?? null,
      latencyRule: latencyRule?.id ?? null,
    };
  }
}

function parseDeliveryRules(body: unknown): DeliveryRuleInput[] {
  const list = Array.isArray(body) ? body : [body];
  const result = z.array(ruleSchema).safeParse(list);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = (Array.isArray(body) ? issue.path : issue.path.slice(1)).join('.');
    return `${path || 'rule'}: ${issue.message}`;
  });
  throw badRule(issues.join('; '));
}

function compileMatch(match: DeliveryRuleInput['match']): Compiled['matches'] {
  const to = match?.to === undefined ? undefined : [match.to].flat().map(recipientMatcher);
  return (message) =>
    (match?.channel === undefined || match.channel === message.channel) &&
    (match?.via === undefined || match.via === message.via) &&
    (to === undefined || to.some((test) => test(message.to)));
}

function badRule(message: string): SimulatorError {
  return new SimulatorError(
    'PW_SIM_BAD_RULE',
    message,
    'see docs/simulators.md#delivery-rules for the shape of a delivery rule',
  );
}
