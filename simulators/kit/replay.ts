// Replay: decisions come from a recorded journal, looked up by fingerprint and occurrence, instead
// of from the rules and the random source. The same faults then hit the same requests whatever
// the timing, and recorded decisions that no request claimed are reported.
import { z } from 'zod';
import { maxAheadMs } from './clock.ts';
import { SimulatorError } from './errors.ts';
import { type Fingerprint, fingerprintKey } from './fingerprint.ts';
import type { FaultDecision, JournalDocument, JournalEntry } from './journal.ts';
import { maxWaitMs } from './latency.ts';

// A recorded decision is applied as it stands, so it is held to what a rule could have decided:
// every wait bounded by maxWaitMs, statuses the vendor answers with. A journal edited by hand (or
// from another version) is refused with the entry and the problem rather than hanging a request.
const waitMs = z.number().min(0).max(maxWaitMs);
const faultDecision = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('latency'), ms: waitMs }),
    z.strictObject({
      kind: z.literal('error'),
      status: z.number().int().min(400).max(599),
      body: z.unknown().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    }),
    z.strictObject({ kind: z.literal('throttle'), retryAfterS: z.number().min(0).max(3600) }),
    z.strictObject({ kind: z.literal('reset') }),
    z.strictObject({ kind: z.literal('hang'), maxMs: waitMs.gt(0) }),
    z.strictObject({
      kind: z.literal('outage'),
      status: z.number().int().min(500).max(599),
      // the time left in the outage's window, which may be far ahead: it is only a header
      retryAfterS: z
        .number()
        .int()
        .min(0)
        .max(maxAheadMs / 1000),
    }),
  ],
  { error: 'kind must be one of latency, error, throttle, reset, hang, outage' },
);
const journalEntry = z.object({
  fingerprint: z.strictObject({
    method: z.string(),
    path: z.string(),
    key: z.string(),
    occurrence: z.number().int().min(0),
  }),
  rule: z.string().nullable(),
  fault: faultDecision.nullable(),
});

// a decision schema kept in step with the type the kit applies
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const decisionTypeMatches: Same<z.output<typeof faultDecision>, FaultDecision> = true;
void decisionTypeMatches;

export interface ReplayReport {
  /** Recorded entries loaded. */
  recorded: number;
  /** Recorded entries a request has claimed so far. */
  matched: number;
  /** Recorded faults that no request has claimed (yet): the replay did not reproduce these. */
  unmatched: JournalEntry[];
  /** Recorded "no fault" decisions not claimed: harmless, counted only. */
  unmatchedWithoutFault: number;
}

export interface ReplayedDecision {
  rule: string | null;
  fault: FaultDecision | null;
}

export class ReplaySource {
  readonly #pending = new Map<string, JournalEntry>();
  readonly #recorded: number;

  constructor(journal: JournalDocument | readonly JournalEntry[]) {
    const entries: unknown = Array.isArray(journal)
      ? journal
      : journal && typeof journal === 'object'
        ? (journal as JournalDocument).entries
        : undefined;
    if (!Array.isArray(entries)) {
      throw new SimulatorError(
        'PW_SIM_BAD_JOURNAL',
        'a journal to replay is an array of entries or an object with "entries"',
        'pass what GET /_sim/journal returned',
      );
    }
    for (const [index, entry] of (entries as JournalEntry[]).entries()) {
      const checked = journalEntry.safeParse(entry);
      if (!checked.success) {
        const problems = checked.error.issues.map(
          (issue) => `${issue.path.map(String).join('.') || 'entry'}: ${issue.message}`,
        );
        throw new SimulatorError(
          'PW_SIM_BAD_JOURNAL',
          `entry [${index}] is not a journal entry (${problems.join('; ')})`,
          'pass the entries of GET /_sim/journal unchanged',
        );
      }
      this.#pending.set(occurrenceKey(checked.data.fingerprint), entry);
    }
    this.#recorded = this.#pending.size;
  }

  /** The recorded decision for this request, once; undefined when none was recorded. */
  take(fingerprint: Fingerprint): ReplayedDecision | undefined {
    const key = occurrenceKey(fingerprint);
    const entry = this.#pending.get(key);
    if (!entry) return undefined;
    this.#pending.delete(key);
    return { rule: entry.rule, fault: entry.fault };
  }

  report(): ReplayReport {
    const left = [...this.#pending.values()];
    const unmatched = left.filter((entry) => entry.fault !== null);
    return {
      recorded: this.#recorded,
      matched: this.#recorded - left.length,
      unmatched,
      unmatchedWithoutFault: left.length - unmatched.length,
    };
  }
}

function occurrenceKey(fingerprint: Fingerprint): string {
  return `${fingerprintKey(fingerprint)}#${fingerprint.occurrence}`;
}
