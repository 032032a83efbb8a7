// Replay: decisions come from a recorded journal, looked up by fingerprint and occurrence, instead
// of from the rules and the random source. The same faults then hit the same requests whatever
// the timing, and recorded decisions that no request claimed are reported.
import { SimulatorError } from './errors.ts';
import { type Fingerprint, fingerprintKey } from './fingerprint.ts';
import type { FaultDecision, JournalDocument, JournalEntry } from './journal.ts';

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
      const fingerprint = (entry as Partial<JournalEntry> | undefined)?.fingerprint;
      if (
        !fingerprint ||
        typeof fingerprint.method !== 'string' ||
        typeof fingerprint.path !== 'string' ||
        typeof fingerprint.key !== 'string' ||
        !Number.isInteger(fingerprint.occurrence) ||
        !('fault' in entry)
      ) {
        throw new SimulatorError(
          'PW_SIM_BAD_JOURNAL',
          `entry [${index}] has no fingerprint {method, path, key, occurrence} and fault`,
          'pass the entries of GET /_sim/journal unchanged',
        );
      }
      this.#pending.set(occurrenceKey(fingerprint), entry);
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
