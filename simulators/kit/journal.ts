// Every fault decision, in order: what the harness saves with a run and replays later.
import { type Fingerprint, fingerprintKey } from './fingerprint.ts';

/** A decision with everything needed to apply it again (a latency is its drawn value). */
export type FaultDecision =
  | { kind: 'latency'; ms: number }
  | { kind: 'error'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'throttle'; retryAfterS: number }
  | { kind: 'reset' }
  | { kind: 'hang'; maxMs: number }
  | { kind: 'outage'; status: number; retryAfterS: number };

export interface JournalEntry {
  seq: number;
  fingerprint: Fingerprint;
  /** The rule that fired, or null when rules matched but none fired (probability said no). */
  rule: string | null;
  fault: FaultDecision | null;
  /** Differs from run to run by nature; leave it out when comparing journals. */
  meta: { at: string; requestId?: string; traceId?: string; replayed?: true };
}

/** What GET /_sim/journal answers, and what replay accepts. */
export interface JournalDocument {
  simulator: string;
  seed: number;
  entries: JournalEntry[];
  /** Entries dropped from the front because the journal reached its limit. */
  dropped: number;
  /** `?since=` this value returns only entries added later. */
  nextSeq: number;
}

export class Journal {
  readonly #limit: number;
  readonly #entries: JournalEntry[] = [];
  readonly #simulator: string;
  readonly #seed: number;
  #seq = 0;
  #dropped = 0;

  constructor(options: { simulator: string; seed: number; limit: number }) {
    this.#simulator = options.simulator;
    this.#seed = options.seed;
    this.#limit = options.limit;
  }

  append(entry: Omit<JournalEntry, 'seq'>): JournalEntry {
    const recorded = { seq: ++this.#seq, ...entry };
    this.#entries.push(recorded);
    // bounded like every queue here; the count of dropped entries says the record is incomplete
    if (this.#entries.length > this.#limit) {
      this.#entries.shift();
      this.#dropped++;
    }
    return recorded;
  }

  /** The entries with a sequence number above `sinceSeq` (all by default). */
  entries(sinceSeq = 0): JournalEntry[] {
    const first = this.#entries.findIndex((entry) => entry.seq > sinceSeq);
    return first === -1 ? [] : this.#entries.slice(first);
  }

  toJSON(sinceSeq = 0): JournalDocument {
    return {
      simulator: this.#simulator,
      seed: this.#seed,
      entries: this.entries(sinceSeq),
      dropped: this.#dropped,
      nextSeq: this.#seq,
    };
  }
}

/** The decisions alone (no meta), in order: equal for two runs with one seed and one request sequence. */
export function decisionsOf(entries: readonly JournalEntry[]) {
  return entries.map(({ fingerprint, rule, fault }) => ({ fingerprint, rule, fault }));
}

/**
 * The decisions alone, sorted by fingerprint (method, path, key, then occurrence) instead of by
 * arrival: equal for two runs with one seed and the same requests, however they interleaved.
 */
export function decisionsByFingerprint(entries: readonly JournalEntry[]) {
  const sortKey = ({ fingerprint }: { fingerprint: Fingerprint }) => fingerprintKey(fingerprint);
  return decisionsOf(entries).sort((a, b) => {
    const [keyA, keyB] = [sortKey(a), sortKey(b)];
    if (keyA !== keyB) return keyA < keyB ? -1 : 1;
    return a.fingerprint.occurrence - b.fingerprint.occurrence;
  });
}
