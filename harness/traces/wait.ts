// Waiting for spans. A check is re-run each time spans arrive, so a wait ends the moment its
// spans are there; at the deadline it fails saying what was missing. It never settles for "no new
// spans for a while", which passes or fails with the exporter's batching delay.
import { PlanewrightError } from '../errors.ts';
import { compileMatcher, describeMatcher, type NamePattern, type SpanMatcher } from './matcher.ts';
import type { TraceSpan } from './span.ts';
import type { TraceStore } from './store.ts';

/** Spans to wait for: those of a trace and/or flow that `where` accepts. */
export interface SpanCondition {
  traceId?: string;
  /** The `flow.id` attribute (the flow engine's step spans). */
  flowId?: string;
  where?: SpanMatcher;
  /** At least this many spans. Default: 1 when `names` is not given, else 0. */
  count?: number;
  /** Each pattern must match the name of at least one span. */
  names?: readonly NamePattern[];
}

export interface WaitOptions {
  /** Default: 10,000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Outcome<T> {
  value?: T;
  /** Why the check does not hold yet; empty when it holds. */
  missing: string[];
}

export function waitForCondition<T>(
  store: TraceStore,
  check: SpanCondition | ((store: TraceStore) => T | undefined | null | false),
  options: WaitOptions,
): Promise<T | TraceSpan[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const evaluate: (store: TraceStore) => Outcome<T | TraceSpan[]> =
    typeof check === 'function' ? predicateCheck(check) : conditionCheck(check);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stopListening = () => {};
    const finish = () => {
      clearTimeout(timer);
      stopListening();
      options.signal?.removeEventListener('abort', onAbort);
    };
    const attempt = (): boolean => {
      let outcome: Outcome<T | TraceSpan[]>;
      try {
        outcome = evaluate(store);
      } catch (error) {
        finish();
        reject(error);
        return true;
      }
      if (outcome.missing.length > 0) return false;
      finish();
      resolve(outcome.value as T | TraceSpan[]);
      return true;
    };
    const onAbort = () => {
      finish();
      reject(options.signal!.reason);
    };
    if (options.signal?.aborted) return reject(options.signal.reason);
    if (attempt()) return;
    stopListening = store.onAdd(() => void attempt());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      finish();
      const { missing } = evaluate(store);
      reject(
        new PlanewrightError(
          'PW_TRACES_WAIT_TIMEOUT',
          `after ${timeoutMs} ms still missing: ${missing.join('; ')} (the store holds ${describeStore(store)})`,
          'check that the process exports to this collector (OTEL_EXPORTER_OTLP_ENDPOINT) and flushes in time ' +
            '(OTEL_BSP_SCHEDULE_DELAY, default 5000 ms), or raise timeoutMs',
        ),
      );
    }, timeoutMs);
  });
}

function predicateCheck<T>(
  predicate: (store: TraceStore) => T | undefined | null | false,
): (store: TraceStore) => Outcome<T> {
  const name = predicate.name ? `${predicate.name}()` : 'the predicate';
  return (store) => {
    const value = predicate(store);
    return value === undefined || value === null || value === false
      ? { missing: [`${name} did not hold`] }
      : { value, missing: [] };
  };
}

function conditionCheck(condition: SpanCondition): (store: TraceStore) => Outcome<TraceSpan[]> {
  const where = condition.where ? compileMatcher(condition.where) : undefined;
  const names = (condition.names ?? []).map((pattern) => ({
    pattern,
    matches: compileMatcher(pattern),
  }));
  const count = condition.count ?? (names.length > 0 ? 0 : 1);
  const scope = [
    condition.traceId ? `trace ${condition.traceId}` : '',
    condition.flowId ? `flow ${condition.flowId}` : '',
    condition.where ? `spans with ${describeMatcher(condition.where)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return (store) => {
    let spans: TraceSpan[];
    if (condition.traceId) {
      spans = store.trace(condition.traceId);
      if (condition.flowId) spans = spans.filter((span) => span.attributes['flow.id'] === condition.flowId);
    } else if (condition.flowId) {
      spans = store.flow(condition.flowId);
    } else {
      spans = store.all();
    }
    if (where) spans = spans.filter(where);
    const missing: string[] = [];
    if (spans.length < count) {
      const have = spans.length ? ` (have: ${summarizeNames(spans)})` : '';
      missing.push(`${scope || 'the store'}: ${spans.length} of ${count} spans${have}`);
    }
    const absent = names.filter(({ matches }) => !spans.some(matches)).map(({ pattern }) => String(pattern));
    if (absent.length > 0) {
      const have = spans.length ? `; have: ${summarizeNames(spans)}` : '';
      missing.push(`${scope ? `${scope}: ` : ''}no span named ${absent.join(', ')}${have}`);
    }
    return { value: spans, missing };
  };
}

function summarizeNames(spans: TraceSpan[]): string {
  const names = [...new Set(spans.map((span) => span.name))];
  return names.length > 8 ? `${names.slice(0, 8).join(', ')}, … ${names.length - 8} more` : names.join(', ');
}

function describeStore(store: TraceStore): string {
  if (store.size === 0) return 'no spans at all';
  const services = new Set<string>();
  for (const span of store) services.add(span.service ?? '(no service.name)');
  return `${store.size} spans in ${store.stats().traces} traces from ${[...services].join(', ')}`;
}
