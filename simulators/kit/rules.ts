// What a fault rule looks like on the wire (POST /_sim/faults, Simulator.withFaults) and its
// validation: every mistake is named with its path, so a typo in a rule is a 400, never a rule
// that silently matches nothing.
import { z } from 'zod';
import { checkTimeMs, parseTime } from './clock.ts';
import { SimulatorError } from './errors.ts';
import { latencyProblem, latencyShape, maxWaitMs } from './latency.ts';

export { maxWaitMs };

const ms = z.number().min(0).max(maxWaitMs);
const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const time = z.union([z.number(), z.string().min(1)]);

const latencyFault = z.strictObject({ kind: z.literal('latency'), ...latencyShape });

const faultSpec = z.discriminatedUnion('kind', [
  latencyFault,
  z.strictObject({
    kind: z.literal('error'),
    status: z.number().int().min(400).max(599),
    /** Replaces the vendor's own error body for this status. */
    body: z.unknown().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.strictObject({ kind: z.literal('throttle'), retryAfterS: z.number().min(0).max(3600).optional() }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('hang'), maxMs: ms.gt(0).optional() }),
  z.strictObject({
    kind: z.literal('outage'),
    forMs: ms.gt(0).optional(),
    status: z.number().int().min(500).max(599).optional(),
  }),
]);

const ruleInput = z.strictObject({
  /** Letters, digits, `_`, `-` and `.`; default `rule_<n>`. */
  id: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'use 1 to 64 letters, digits, "_", "-" or "."')
    .optional(),
  match: z
    .strictObject({
      method: stringOrList.optional(),
      /** `/v1/customers/*` (one segment), `/v1/**` (any depth) or `/v1/customers/:id`. */
      path: z.string().startsWith('/', 'a path pattern starts with "/"').optional(),
      /** Header name → exact value, or a value with `*` wildcards. */
      headers: z.record(z.string().min(1), z.string()).optional(),
      tenant: stringOrList.optional(),
    })
    .optional(),
  fault: faultSpec,
  /** Chance that a matching request gets the fault; default 1. */
  probability: z.number().min(0).max(1).optional(),
  /** The rule fires at most this many times. */
  count: z.number().int().min(1).optional(),
  /** Absolute (`from`, `until`: epoch ms or ISO, on the simulator clock) or relative to when the rule is added. */
  window: z
    .strictObject({
      from: time.optional(),
      until: time.optional(),
      afterMs: ms.optional(),
      forMs: ms.optional(),
    })
    .optional(),
});

export type FaultRuleInput = z.input<typeof ruleInput>;
export type FaultSpec = z.output<typeof faultSpec>;
export type RuleMatchInput = NonNullable<FaultRuleInput['match']>;
export type RuleWindowInput = NonNullable<FaultRuleInput['window']>;

/** Validates one rule or a list of rules; throws PW_SIM_BAD_RULE naming every mistake. */
export function parseRuleInputs(body: unknown): FaultRuleInput[] {
  const list = Array.isArray(body) ? body : [body];
  const result = z.array(ruleInput).min(1, 'give at least one rule').safeParse(list);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = Array.isArray(body) ? issue.path : issue.path.slice(1);
      return `${formatPath(path) || 'rule'}: ${issue.message}`;
    });
    throw badRule(issues.join('; '));
  }
  result.data.forEach((rule, index) => {
    const where = Array.isArray(body) ? `[${index}].` : '';
    const problem = crossFieldProblem(rule);
    if (problem) throw badRule(`${where}${problem}`);
  });
  return result.data;
}

/**
 * A rule's window in epoch ms on the simulator clock (open ends are ±Infinity). Absolute times must
 * be dates, at most 100 years ahead of `nowMs`: PW_SIM_BAD_TIME otherwise.
 */
export function windowBounds(
  window: RuleWindowInput,
  outageForMs: number | undefined,
  nowMs: number,
): { fromMs: number; untilMs: number } {
  const absolute = (value: number | string, what: string) => checkTimeMs(parseTime(value, what), what, nowMs);
  const fromMs =
    window.from !== undefined
      ? absolute(window.from, 'window.from')
      : window.afterMs !== undefined
        ? nowMs + window.afterMs
        : Number.NEGATIVE_INFINITY;
  const start = Number.isFinite(fromMs) ? fromMs : nowMs;
  const forMs = window.forMs ?? outageForMs;
  const untilMs =
    window.until !== undefined
      ? absolute(window.until, 'window.until')
      : forMs !== undefined
        ? start + forMs
        : Number.POSITIVE_INFINITY;
  return { fromMs, untilMs };
}

/** What a schema cannot say: exactly one latency shape, ranges in order, an outage that ends. */
function crossFieldProblem(rule: z.output<typeof ruleInput>): string | undefined {
  const { fault, window } = rule;
  if (fault.kind === 'latency') {
    const problem = latencyProblem(fault);
    if (problem) return `fault (latency): ${problem}`;
  }
  if (window && window.from !== undefined && window.afterMs !== undefined) {
    return 'window: give from or afterMs, not both';
  }
  if (window && window.until !== undefined && window.forMs !== undefined) {
    return 'window: give until or forMs, not both';
  }
  if (fault.kind === 'outage') {
    if (fault.forMs === undefined && window?.until === undefined && window?.forMs === undefined) {
      return 'fault: an outage needs an end: give fault.forMs, window.forMs or window.until';
    }
    if (fault.forMs !== undefined && (window?.until !== undefined || window?.forMs !== undefined)) {
      return 'fault.forMs: the window already says when the outage ends; give one of them';
    }
    if (rule.probability !== undefined || rule.count !== undefined) {
      return 'an outage fails every matching request in its window: it takes no probability or count';
    }
  }
  return undefined;
}

function badRule(message: string): SimulatorError {
  return new SimulatorError(
    'PW_SIM_BAD_RULE',
    message,
    'see docs/simulators.md#fault-rules for the shape of a rule',
  );
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
