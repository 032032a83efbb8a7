// The fault rules of one simulator and the decision for each request. Rules are kept newest
// first: a rule added later is asked first (as msw's `use()` handlers are), and the first rule
// that matches and fires decides. `reset` goes back to the rules the simulator started with.
import type { SimClock } from './clock.ts';
import { SimulatorError } from './errors.ts';
import { type Fingerprint, fingerprintKey } from './fingerprint.ts';
import type { FaultDecision, JournalDocument, JournalEntry } from './journal.ts';
import { drawLatencyMs } from './latency.ts';
import { compileMatch, type MatchableRequest, type RequestMatcher } from './match.ts';
import { requestRandom } from './random.ts';
import { type ReplayedDecision, type ReplayReport, ReplaySource } from './replay.ts';
import {
  type FaultRuleInput,
  type FaultSpec,
  parseRuleInputs,
  type RuleMatchInput,
  windowBounds,
} from './rules.ts';

/** A rule as listed by GET /_sim/faults. */
export interface FaultRule {
  id: string;
  match: RuleMatchInput;
  fault: FaultSpec;
  probability: number;
  /** Most times it may fire; null for no limit. */
  count: number | null;
  /** Times it has fired. */
  fired: number;
  /** On the simulator clock; null for an open end. */
  window: { from: string | null; until: string | null };
  addedAt: string;
  /** Given when the simulator was built: `reset` brings it back. */
  isDefault: boolean;
}

interface ActiveRule {
  view: FaultRule;
  matches: RequestMatcher;
  fromMs: number;
  untilMs: number;
}

export interface FaultControllerOptions {
  seed: number;
  clock: SimClock;
  defaults: readonly FaultRuleInput[];
  /** False when the simulator cannot tell a request's tenant: rules naming tenants are refused. */
  knowsTenants: boolean;
  /** How long a hang lasts unless its rule says otherwise. */
  hangMaxMs: number;
}

export class FaultController {
  readonly #options: FaultControllerOptions;
  #rules: ActiveRule[] = [];
  #nextId = 1;
  #replay: ReplaySource | undefined;

  constructor(options: FaultControllerOptions) {
    this.#options = options;
    this.reset();
  }

  /** Adds rules (one, or a list whose later entries take precedence); validates them first. */
  add(input: FaultRuleInput | readonly FaultRuleInput[]): FaultRule[] {
    return this.#add(parseRuleInputs(input), false);
  }

  /** Rules in precedence order: the first one listed is asked first. */
  list(): FaultRule[] {
    return this.#rules.map((rule) => ({ ...rule.view }));
  }

  /** Removes one rule; false when there is none with that id. */
  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((rule) => rule.view.id !== id);
    return this.#rules.length < before;
  }

  /** Removes every rule, the simulator's defaults included (until `reset`). */
  clear(): void {
    this.#rules = [];
  }

  /** Back to the simulator's default rules, with nothing fired. Replay mode, if on, stays on. */
  reset(): void {
    this.#rules = [];
    // windows given relative to "now" start again from the reset
    if (this.#options.defaults.length > 0) this.#add(parseRuleInputs(this.#options.defaults), true);
  }

  /** From now on decisions come from `journal` instead of rules and the random source. */
  replay(journal: JournalDocument | readonly JournalEntry[]): void {
    this.#replay = new ReplaySource(journal);
  }

  /** Recorded decisions matched and left over; undefined when not replaying. */
  replayReport(): ReplayReport | undefined {
    return this.#replay?.report();
  }

  /** Leaves replay mode and returns its final report. */
  stopReplay(): ReplayReport | undefined {
    const report = this.#replay?.report();
    this.#replay = undefined;
    return report;
  }

  get mode(): 'rules' | 'replay' {
    return this.#replay ? 'replay' : 'rules';
  }

  /**
   * The decision for one request: undefined when no rule was in play (nothing to journal), else
   * the rule that fired and its fault, or `{ rule: null, fault: null }` when rules were in play and
   * none fired.
   */
  decide(request: MatchableRequest, fingerprint: Fingerprint): ReplayedDecision | undefined {
    if (this.#replay) return this.#replay.take(fingerprint);
    const now = this.#options.clock.now();
    let random: ReturnType<typeof requestRandom> | undefined;
    const draw = () => {
      random ??= requestRandom(this.#options.seed, fingerprintKey(fingerprint), fingerprint.occurrence);
      return random;
    };
    let inPlay = false;
    for (const rule of this.#rules) {
      const { view } = rule;
      if (now < rule.fromMs || now >= rule.untilMs) continue;
      if (view.count !== null && view.fired >= view.count) continue;
      if (!rule.matches(request)) continue;
      inPlay = true;
      if (view.probability < 1 && draw().float() >= view.probability) continue;
      view.fired++;
      return { rule: view.id, fault: this.#resolve(view.fault, rule, now, draw) };
    }
    return inPlay ? { rule: null, fault: null } : undefined;
  }

  #resolve(
    fault: FaultSpec,
    rule: ActiveRule,
    now: number,
    draw: () => ReturnType<typeof requestRandom>,
  ): FaultDecision {
    switch (fault.kind) {
      case 'latency':
        return { kind: 'latency', ms: drawLatencyMs(fault, draw) };
      case 'error':
        return {
          kind: 'error',
          status: fault.status,
          ...(fault.body !== undefined ? { body: fault.body } : {}),
          ...(fault.headers ? { headers: fault.headers } : {}),
        };
      case 'throttle':
        return { kind: 'throttle', retryAfterS: fault.retryAfterS ?? 1 };
      case 'reset':
        return { kind: 'reset' };
      case 'hang':
        return { kind: 'hang', maxMs: fault.maxMs ?? this.#options.hangMaxMs };
      case 'outage':
        return {
          kind: 'outage',
          status: fault.status ?? 503,
          retryAfterS: Math.max(1, Math.ceil((rule.untilMs - now) / 1000)),
        };
    }
  }

  #add(inputs: FaultRuleInput[], isDefault: boolean): FaultRule[] {
    const now = this.#options.clock.now();
    const prepared = inputs.map((input) => this.#prepare(input, now, isDefault));
    const ids = new Set(this.#rules.map((rule) => rule.view.id));
    for (const rule of prepared) {
      if (ids.has(rule.view.id)) {
        throw new SimulatorError(
          'PW_SIM_BAD_RULE',
          `a rule with id "${rule.view.id}" already exists`,
          `DELETE /_sim/faults/${rule.view.id} first, or choose another id`,
        );
      }
      ids.add(rule.view.id);
    }
    // later in the list = added later = asked first
    for (const rule of prepared) this.#rules.unshift(rule);
    return prepared.map((rule) => ({ ...rule.view }));
  }

  #prepare(input: FaultRuleInput, now: number, isDefault: boolean): ActiveRule {
    if (input.match?.tenant !== undefined && !this.#options.knowsTenants) {
      throw new SimulatorError(
        'PW_SIM_BAD_RULE',
        'match.tenant: this simulator does not tell which tenant a request belongs to',
        'match on a header instead',
      );
    }
    const { window = {}, fault } = input;
    const { fromMs, untilMs } = windowBounds(window, fault.kind === 'outage' ? fault.forMs : undefined, now);
    const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    const view: FaultRule = {
      id: input.id ?? `rule_${this.#nextId++}`,
      match: input.match ?? {},
      fault,
      probability: input.probability ?? 1,
      count: input.count ?? null,
      fired: 0,
      window: { from: iso(fromMs), until: iso(untilMs) },
      addedAt: new Date(now).toISOString(),
      isDefault,
    };
    return { view, matches: compileMatch(input.match), fromMs, untilMs };
  }
}
