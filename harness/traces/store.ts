// Spans kept in memory for a test run, indexed by trace, flow, span id and link target. Bounded:
// past `maxSpans` the oldest spans are evicted (and counted), so a long run cannot exhaust memory.
import { compileMatcher, type SpanMatcher } from './matcher.ts';
import { flowIdOf, type TraceSpan } from './span.ts';
import { SpanList } from './span-list.ts';
import { type SpanCondition, type WaitOptions, waitForCondition } from './wait.ts';

export interface TraceStoreOptions {
  /** Spans kept before the oldest are evicted. Default: 200,000. */
  maxSpans?: number;
}

export interface TraceStoreStats {
  /** Spans held now. */
  spans: number;
  traces: number;
  /** Spans ever added. */
  added: number;
  /** Spans evicted to stay within maxSpans. */
  evicted: number;
}

export class TraceStore implements Iterable<TraceSpan> {
  readonly maxSpans: number;
  #ring: TraceSpan[] = [];
  #oldest = 0;
  #byTrace = new Map<string, SpanList<TraceSpan>>();
  #byFlow = new Map<string, SpanList<TraceSpan>>();
  #bySpanId = new Map<string, TraceSpan>();
  #linkedFrom = new Map<string, SpanList<TraceSpan>>();
  #added = 0;
  #evicted = 0;
  #listeners = new Set<() => void>();

  constructor(options: TraceStoreOptions = {}) {
    this.maxSpans = options.maxSpans ?? 200_000;
    if (!Number.isInteger(this.maxSpans) || this.maxSpans < 1) {
      throw new RangeError(`maxSpans must be a positive integer, got ${options.maxSpans}`);
    }
  }

  get size(): number {
    return this.#ring.length;
  }

  stats(): TraceStoreStats {
    return { spans: this.size, traces: this.#byTrace.size, added: this.#added, evicted: this.#evicted };
  }

  /** Adds spans (evicting the oldest past maxSpans) and wakes the waits they may complete. */
  add(spans: readonly TraceSpan[]): void {
    for (const span of spans) {
      if (this.#ring.length < this.maxSpans) {
        this.#ring.push(span);
      } else {
        this.#unindex(this.#ring[this.#oldest]!);
        this.#ring[this.#oldest] = span;
        this.#oldest = (this.#oldest + 1) % this.maxSpans;
        this.#evicted += 1;
      }
      this.#index(span);
    }
    this.#added += spans.length;
    if (spans.length > 0) for (const listener of [...this.#listeners]) listener();
  }

  /** Every span held, oldest first. */
  all(): TraceSpan[] {
    return [...this];
  }

  *[Symbol.iterator](): IterableIterator<TraceSpan> {
    const ring = this.#ring;
    for (let i = 0; i < ring.length; i++) yield ring[(this.#oldest + i) % ring.length]!;
  }

  /** The spans of one trace, in arrival order. */
  trace(traceId: string): TraceSpan[] {
    return this.#byTrace.get(traceId.toLowerCase())?.toArray() ?? [];
  }

  traceIds(): string[] {
    return [...this.#byTrace.keys()];
  }

  /** The spans whose `flow.id` attribute is `flowId` (the flow engine's step spans). */
  flow(flowId: string): TraceSpan[] {
    return this.#byFlow.get(flowId)?.toArray() ?? [];
  }

  flowIds(): string[] {
    return [...this.#byFlow.keys()];
  }

  span(spanId: string): TraceSpan | undefined {
    return this.#bySpanId.get(spanId.toLowerCase());
  }

  /** The spans that hold a link to `spanId` (work it caused outside its own trace tree). */
  linkedTo(spanId: string): TraceSpan[] {
    return this.#linkedFrom.get(spanId.toLowerCase())?.toArray() ?? [];
  }

  /** The direct children of `span` in its trace. */
  childrenOf(span: TraceSpan): TraceSpan[] {
    return this.trace(span.traceId).filter((each) => each.parentSpanId === span.spanId);
  }

  /** The spans `matcher` accepts, oldest first. */
  find(matcher: SpanMatcher): TraceSpan[] {
    const matches = compileMatcher(matcher);
    const out: TraceSpan[] = [];
    for (const span of this) if (matches(span)) out.push(span);
    return out;
  }

  /** The spans with attribute `key` (equal to `value` when given). */
  withAttribute(key: string, value?: TraceSpan['attributes'][string]): TraceSpan[] {
    if (value === undefined) return this.find((span) => span.attributes[key] !== undefined);
    return this.find({ attributes: { [key]: value } });
  }

  /**
   * Resolves as soon as the spans a check needs have arrived; rejects at the deadline saying what
   * was missing. A function resolves with its first truthy result; a condition with its spans.
   * @example const steps = await store.waitFor({ flowId, names: ['flow diagnostic effect-3'] }, { timeoutMs: 10_000 })
   */
  waitFor<T>(check: (store: TraceStore) => T | undefined | null | false, options?: WaitOptions): Promise<T>;
  waitFor(check: SpanCondition, options?: WaitOptions): Promise<TraceSpan[]>;
  waitFor<T>(
    check: SpanCondition | ((store: TraceStore) => T | undefined | null | false),
    options: WaitOptions = {},
  ): Promise<T | TraceSpan[]> {
    return waitForCondition(this, check, options);
  }

  /** Calls `listener` after every add; returns the function that stops it. */
  onAdd(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets every span (counters too); waits in progress keep waiting. */
  clear(): void {
    this.#ring = [];
    this.#oldest = 0;
    this.#byTrace.clear();
    this.#byFlow.clear();
    this.#bySpanId.clear();
    this.#linkedFrom.clear();
    this.#added = 0;
    this.#evicted = 0;
  }

  #index(span: TraceSpan): void {
    listIn(this.#byTrace, span.traceId).push(span);
    const flowId = flowIdOf(span);
    if (flowId !== undefined) listIn(this.#byFlow, flowId).push(span);
    this.#bySpanId.set(span.spanId, span);
    for (const link of span.links) listIn(this.#linkedFrom, link.spanId).push(span);
  }

  #unindex(span: TraceSpan): void {
    removeFrom(this.#byTrace, span.traceId, span);
    const flowId = flowIdOf(span);
    if (flowId !== undefined) removeFrom(this.#byFlow, flowId, span);
    if (this.#bySpanId.get(span.spanId) === span) this.#bySpanId.delete(span.spanId);
    for (const link of span.links) removeFrom(this.#linkedFrom, link.spanId, span);
  }
}

function listIn(map: Map<string, SpanList<TraceSpan>>, key: string): SpanList<TraceSpan> {
  let list = map.get(key);
  if (!list) {
    list = new SpanList();
    map.set(key, list);
  }
  return list;
}

function removeFrom(map: Map<string, SpanList<TraceSpan>>, key: string, span: TraceSpan): void {
  const list = map.get(key);
  if (!list) return;
  list.remove(span);
  if (list.length === 0) map.delete(key);
}
