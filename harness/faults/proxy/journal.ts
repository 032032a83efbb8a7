// Every decision the fault proxy takes that a replay needs: each toxicity draw (a toxic applied to
// a connection's stream, or skipped) and each thing a toxic did to a connection (closed it, reset
// it, held its close). Entries are in the order taken; the journal is bounded like the
// simulators' (the oldest entries go first, and `dropped` says how many).
import type { Stream, ToxicType } from './toxics.ts';

export type FaultProxyDecision =
  /** Toxicity drawn: the toxic acts on this stream of the connection. */
  | 'applied'
  /** Toxicity drawn: it does not (data passes untouched). */
  | 'skipped'
  /** timeout: no data for `timeout` ms, the connection was closed. */
  | 'timed_out'
  /** timeout: the toxic was removed while it held the connection, which was closed (as Toxiproxy does). */
  | 'closed_on_removal'
  /** limit_data: the limit was reached, the connection was closed. */
  | 'limit_reached'
  /** reset_peer: both sides were reset (RST). */
  | 'reset'
  /** slow_close: a close was held for `delay` ms. */
  | 'close_delayed';

export interface FaultProxyJournalEntry {
  seq: number;
  proxy: string;
  toxic: string;
  type: ToxicType;
  stream: Stream;
  /** The connection's number on its proxy, from 1, in the order accepted. */
  connection: number;
  decision: FaultProxyDecision;
  /** For `applied` and `skipped`: the toxicity, and the uniform draw in [0, 1) it was compared with. */
  toxicity?: number;
  draw?: number;
  /** Differs from run to run by nature; leave it out when comparing journals. */
  at: string;
}

/** What GET /_planewright/journal answers. */
export interface FaultProxyJournalDocument {
  component: 'fault-proxy';
  seed: number;
  entries: FaultProxyJournalEntry[];
  /** Entries dropped from the front because the journal reached its limit. */
  dropped: number;
  /** `?since=` this value returns only entries added later. */
  nextSeq: number;
}

export class FaultProxyJournal {
  readonly seed: number;
  readonly #limit: number;
  #entries: FaultProxyJournalEntry[] = [];
  #seq = 0;
  #dropped = 0;

  constructor(options: { seed: number; limit: number }) {
    this.seed = options.seed;
    this.#limit = options.limit;
  }

  append(entry: Omit<FaultProxyJournalEntry, 'seq' | 'at'>): void {
    this.#entries.push({ seq: ++this.#seq, ...entry, at: new Date().toISOString() });
    if (this.#entries.length > this.#limit) {
      // dropping in batches keeps append O(1) on average at the limit
      const excess = this.#entries.length - this.#limit + Math.ceil(this.#limit / 10);
      const drop = Math.min(excess, this.#entries.length);
      this.#entries = this.#entries.slice(drop);
      this.#dropped += drop;
    }
  }

  /** The entries with a sequence number above `sinceSeq` (all by default). */
  entries(sinceSeq = 0): FaultProxyJournalEntry[] {
    const first = this.#entries.findIndex((entry) => entry.seq > sinceSeq);
    return first === -1 ? [] : this.#entries.slice(first);
  }

  toJSON(sinceSeq = 0): FaultProxyJournalDocument {
    return {
      component: 'fault-proxy',
      seed: this.seed,
      entries: this.entries(sinceSeq),
      dropped: this.#dropped,
      nextSeq: this.#seq,
    };
  }
}

/** The decisions alone (no `seq`, no `at`): equal for two runs with one seed and the same connections. */
export function faultProxyDecisions(entries: readonly FaultProxyJournalEntry[]) {
  return entries.map(({ seq: _seq, at: _at, ...decision }) => decision);
}
