// Service level objectives over spans. An SLO with only `from` measures each matching span's
// duration (a step, a request); with `from` and `to` it measures, per flow instance (or per trace
// when no flow is named), from the start of the first `from` span to the end of the last `to`
// span, looking also at spans linked to the instance's traces (a webhook delivery, an agent's
// apply). Percentiles are exact (nearest rank over the sorted samples).
import { PlanewrightError } from '../errors.ts';
import { compileMatcher, describeMatcher, type SpanMatcher } from './matcher.ts';
import { flowIdOf, type TraceSpan } from './span.ts';
import { TraceStore } from './store.ts';

export interface SloDefinition {
  name: string;
  /** Only spans of flows of this type (attribute flow.type); with `to`, measured per flow instance. */
  flow?: string;
  /** The spans measured, or the start point when `to` is given. */
  from: SpanMatcher;
  /** The end point: the end of the last matching span of the same flow instance or trace. */
  to?: SpanMatcher;
  /** Every sample at most this many milliseconds. */
  max?: number;
  /** The p-th percentile (0 < p ≤ 100) at most `max` milliseconds. */
  percentile?: { p: number; max: number };
}

export interface Slo extends SloDefinition {
  readonly matchFrom: (span: TraceSpan) => boolean;
  readonly matchTo: ((span: TraceSpan) => boolean) | undefined;
}

export interface SloResult {
  name: string;
  flow: string | undefined;
  /** What was measured, in words. */
  measured: string;
  /** Milliseconds; undefined when there was no sample. */
  observed: { n: number; p50?: number; p99?: number; max?: number; atPercentile?: number };
  threshold: { max?: number; percentile?: { p: number; max: number } };
  /** Flow instances or traces where `from` or `to` had no span. */
  incomplete: number;
  status: 'pass' | 'fail' | 'no-data';
  pass: boolean;
}

/**
 * Checks and compiles an SLO.
 * @example defineSlo({ name: 'activate step', flow: 'create-api-key', from: { step: 'activate' }, percentile: { p: 99, max: 250 } })
 */
export function defineSlo(definition: SloDefinition): Slo {
  const problems: string[] = [];
  if (!definition.name) problems.push('name is required');
  if (definition.max === undefined && definition.percentile === undefined) {
    problems.push('give max, percentile or both');
  }
  if (definition.max !== undefined && !(definition.max >= 0)) problems.push('max must be ≥ 0 ms');
  if (definition.percentile) {
    const { p, max } = definition.percentile;
    if (!(p > 0 && p <= 100)) problems.push('percentile.p must be in (0, 100]');
    if (!(max >= 0)) problems.push('percentile.max must be ≥ 0 ms');
  }
  if (problems.length > 0) {
    throw new PlanewrightError(
      'PW_SLO_INVALID',
      `SLO ${JSON.stringify(definition.name ?? '')}: ${problems.join('; ')}`,
      'fix the definition',
    );
  }
  const flowMatcher = definition.flow
    ? (span: TraceSpan) => span.attributes['flow.type'] === definition.flow
    : undefined;
  const from = compileMatcher(definition.from);
  return {
    ...definition,
    // a per-step SLO of a flow counts only that flow's spans
    matchFrom: flowMatcher && !definition.to ? (span) => flowMatcher(span) && from(span) : from,
    matchTo: definition.to ? compileMatcher(definition.to) : undefined,
  };
}

/** Evaluates `slos` over the spans (100,000 spans take tens of milliseconds). */
export function checkSlos(
  spans: TraceStore | Iterable<TraceSpan>,
  slos: readonly (Slo | SloDefinition)[],
): SloResult[] {
  const list = spans instanceof TraceStore ? spans.all() : [...spans];
  const groups = new Groups(list);
  return slos.map((each) => {
    const slo = 'matchFrom' in each ? each : defineSlo(each);
    const { samples, incomplete } = slo.matchTo ? spanBetween(slo, groups) : durations(slo, list);
    return evaluate(slo, samples, incomplete);
  });
}

function durations(slo: Slo, spans: TraceSpan[]): { samples: Float64Array; incomplete: number } {
  const samples: number[] = [];
  for (const span of spans) if (slo.matchFrom(span)) samples.push(span.durationMs);
  return { samples: Float64Array.from(samples), incomplete: 0 };
}

function spanBetween(slo: Slo, groups: Groups): { samples: Float64Array; incomplete: number } {
  const samples: number[] = [];
  let incomplete = 0;
  for (const members of slo.flow ? groups.flowInstances(slo.flow) : groups.traces()) {
    let from: bigint | undefined;
    let to: bigint | undefined;
    for (const span of members) {
      if (slo.matchFrom(span) && (from === undefined || span.startTimeUnixNano < from)) {
        from = span.startTimeUnixNano;
      }
      if (slo.matchTo!(span) && (to === undefined || span.endTimeUnixNano > to)) to = span.endTimeUnixNano;
    }
    if (from === undefined || to === undefined || to < from) incomplete += 1;
    else samples.push(Number(to - from) / 1e6);
  }
  return { samples: Float64Array.from(samples), incomplete };
}

function evaluate(slo: Slo, samples: Float64Array, incomplete: number): SloResult {
  samples.sort();
  const n = samples.length;
  const at = (p: number) => samples[Math.max(0, Math.ceil((p / 100) * n) - 1)]!;
  const observed: SloResult['observed'] =
    n === 0
      ? { n }
      : {
          n,
          p50: at(50),
          p99: at(99),
          max: samples[n - 1]!,
          ...(slo.percentile ? { atPercentile: at(slo.percentile.p) } : {}),
        };
  const failed =
    n > 0 &&
    ((slo.max !== undefined && observed.max! > slo.max) ||
      (slo.percentile !== undefined && observed.atPercentile! > slo.percentile.max));
  const status = n === 0 ? 'no-data' : failed ? 'fail' : 'pass';
  const measured = slo.to
    ? `${describeMatcher(slo.from)} → ${describeMatcher(slo.to)}`
    : `duration of ${describeMatcher(slo.from)}`;
  return {
    name: slo.name,
    flow: slo.flow,
    measured,
    observed,
    threshold: {
      ...(slo.max !== undefined ? { max: slo.max } : {}),
      ...(slo.percentile ? { percentile: slo.percentile } : {}),
    },
    incomplete,
    status,
    pass: status === 'pass',
  };
}

/** Spans grouped once per check: by trace, by flow instance, and by the traces that link to them. */
class Groups {
  #spans: TraceSpan[];
  #byTrace: Map<string, TraceSpan[]> | undefined;
  #linking: Map<string, TraceSpan[]> | undefined;

  constructor(spans: TraceSpan[]) {
    this.#spans = spans;
  }

  /** Each trace with the spans of other traces linked to it. */
  *traces(): Iterable<TraceSpan[]> {
    for (const traceId of this.#traceIndex().keys()) yield this.#withLinked([traceId]);
  }

  /** Each flow of `type`: the spans of the traces its steps are in, and those linked to them. */
  *flowInstances(type: string): Iterable<TraceSpan[]> {
    const tracesByFlow = new Map<string, Set<string>>();
    for (const span of this.#spans) {
      if (span.attributes['flow.type'] !== type) continue;
      const flowId = flowIdOf(span);
      if (flowId === undefined) continue;
      const traces = tracesByFlow.get(flowId);
      if (traces) traces.add(span.traceId);
      else tracesByFlow.set(flowId, new Set([span.traceId]));
    }
    for (const traces of tracesByFlow.values()) yield this.#withLinked([...traces]);
  }

  #withLinked(traceIds: string[]): TraceSpan[] {
    const index = this.#traceIndex();
    const linking = this.#linkingIndex();
    const members: TraceSpan[] = [];
    for (const traceId of traceIds) {
      members.push(...(index.get(traceId) ?? []));
      const linked = linking.get(traceId);
      if (linked) for (const span of linked) if (!traceIds.includes(span.traceId)) members.push(span);
    }
    return members;
  }

  #traceIndex(): Map<string, TraceSpan[]> {
    if (!this.#byTrace) {
      this.#byTrace = new Map();
      for (const span of this.#spans) {
        const list = this.#byTrace.get(span.traceId);
        if (list) list.push(span);
        else this.#byTrace.set(span.traceId, [span]);
      }
    }
    return this.#byTrace;
  }

  /** Linked trace id → the spans (of other traces) holding a link into it. */
  #linkingIndex(): Map<string, TraceSpan[]> {
    if (!this.#linking) {
      this.#linking = new Map();
      for (const span of this.#spans) {
        for (const link of span.links) {
          if (link.traceId === span.traceId) continue;
          const list = this.#linking.get(link.traceId);
          if (list) list.push(span);
          else this.#linking.set(link.traceId, [span]);
        }
      }
    }
    return this.#linking;
  }
}
