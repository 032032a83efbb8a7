// A flow as a timeline: the span that started it, each step attempt, and the work the steps set
// off elsewhere (a vendor's server span, an outbox delivery, a webhook, an agent), found through
// parent ids and span links. Each entry says how long it ran and how long it waited: the queueing
// delay from the moment its cause handed the work over to the moment it started.
import { PlanewrightError } from '../errors.ts';
import type { TraceSpan } from './span.ts';
import type { TraceStore } from './store.ts';

export interface TimelineEntry {
  span: TraceSpan;
  /** trigger: the span the flow was started in; step: a step attempt; hop: work a step set off. */
  kind: 'trigger' | 'step' | 'hop';
  label: string;
  /** Start, from the start of the timeline. */
  offsetMs: number;
  durationMs: number;
  /** The span that handed this work over. */
  cause?: { spanId: string; label: string; via: 'previous-step' | 'parent' | 'link' };
  /**
   * From the handover to this start: the end of the cause, or, when the cause was still running
   * (it waited for the work), the end of the cause's last child before this start.
   */
  queueDelayMs?: number;
}

export interface FlowTimeline {
  flowId: string;
  flowType: string | undefined;
  /** Epoch milliseconds of the first entry's start. */
  startMs: number;
  /** First start to last end. */
  totalMs: number;
  /** The steps' durations added up (attempts included). */
  stepsMs: number;
  /** The queueing delays of the steps added up. */
  queuedMs: number;
  entries: TimelineEntry[];
}

/**
 * Builds the timeline of `flowId` from the spans in `store`.
 * @throws PlanewrightError `PW_TRACES_FLOW_NOT_FOUND` when the store has no step span of the flow.
 */
export function flowTimeline(store: TraceStore, flowId: string): FlowTimeline {
  const steps = store.flow(flowId).sort(byStart);
  if (steps.length === 0) {
    throw new PlanewrightError(
      'PW_TRACES_FLOW_NOT_FOUND',
      `no span has flow.id ${flowId}`,
      'wait for the flow’s spans first: await store.waitFor({ flowId, names: [...] })',
    );
  }
  const children = new ChildrenIndex(store);
  const entries: Omit<TimelineEntry, 'offsetMs'>[] = [];
  const included = new Set<TraceSpan>(steps);

  const first = steps[0]!;
  const triggerLink = first.links[0];
  const trigger =
    (first.parentSpanId ? store.span(first.parentSpanId) : undefined) ??
    (triggerLink ? store.span(triggerLink.spanId) : undefined);
  if (trigger) {
    included.add(trigger);
    entries.push({ span: trigger, kind: 'trigger', label: labelOf(trigger), durationMs: trigger.durationMs });
  }
  steps.forEach((step, i) => {
    const previous = steps[i - 1];
    const cause = previous ?? trigger;
    const via = previous ? 'previous-step' : first.parentSpanId === trigger?.spanId ? 'parent' : 'link';
    entries.push({
      span: step,
      kind: 'step',
      label: stepLabel(step),
      durationMs: step.durationMs,
      ...(cause
        ? {
            cause: { spanId: cause.spanId, label: labelOf(cause), via },
            queueDelayMs: handoverDelayMs(cause, step, children, cause === previous),
          }
        : {}),
    });
  });

  // work the steps set off: across a process or queue boundary below a step, or linked to it
  const pending = [...steps];
  while (pending.length > 0) {
    const from = pending.shift()!;
    for (const descendant of [from, ...children.descendantsOf(from)]) {
      for (const linked of store.linkedTo(descendant.spanId)) addHop(linked, descendant, 'link');
      const parent = descendant === from ? undefined : children.parentOf(descendant);
      if (parent && crossesBoundary(descendant, parent)) addHop(descendant, parent, 'parent');
    }
  }
  function addHop(span: TraceSpan, cause: TraceSpan, via: 'parent' | 'link') {
    if (included.has(span)) return;
    included.add(span);
    entries.push({
      span,
      kind: 'hop',
      label: labelOf(span),
      durationMs: span.durationMs,
      cause: { spanId: cause.spanId, label: labelOf(cause), via },
      queueDelayMs: handoverDelayMs(cause, span, children),
    });
    pending.push(span);
  }

  let startNanos = first.startTimeUnixNano;
  let endNanos = 0n;
  for (const { span } of entries) {
    if (span.startTimeUnixNano < startNanos) startNanos = span.startTimeUnixNano;
    if (span.endTimeUnixNano > endNanos) endNanos = span.endTimeUnixNano;
  }
  const stepEntries = entries.filter((entry) => entry.kind === 'step');
  const flowType = first.attributes['flow.type'];
  return {
    flowId,
    flowType: typeof flowType === 'string' ? flowType : undefined,
    startMs: entries.find((entry) => entry.span.startTimeUnixNano === startNanos)!.span.startMs,
    totalMs: nanosBetween(startNanos, endNanos),
    stepsMs: stepEntries.reduce((sum, entry) => sum + entry.durationMs, 0),
    queuedMs: stepEntries.reduce((sum, entry) => sum + (entry.queueDelayMs ?? 0), 0),
    entries: entries
      .map((entry) => ({ ...entry, offsetMs: nanosBetween(startNanos, entry.span.startTimeUnixNano) }))
      .sort((a, b) => (a.kind === 'trigger' ? -1 : b.kind === 'trigger' ? 1 : byStart(a.span, b.span))),
  };
}

/** The timeline as aligned plain text, one entry a line. */
export function formatTimeline(timeline: FlowTimeline): string {
  const steps = timeline.entries.filter((entry) => entry.kind === 'step').length;
  const header =
    `flow ${timeline.flowId}${timeline.flowType ? ` (${timeline.flowType})` : ''}: ${steps} step attempts, ` +
    `${fixed(timeline.totalMs)} ms in all, ${fixed(timeline.stepsMs)} ms in steps, ${fixed(timeline.queuedMs)} ms queued`;
  const rows = [
    ['start ms', 'duration ms', 'queued ms', 'what'],
    ...timeline.entries.map((entry) => [
      fixed(entry.offsetMs),
      fixed(entry.durationMs),
      entry.queueDelayMs === undefined ? '-' : fixed(entry.queueDelayMs),
      `${entry.kind === 'hop' ? '  ↳ ' : ''}${entry.label}${entry.kind === 'trigger' ? ' (started the flow)' : ''}`,
    ]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return [
    header,
    ...rows.map(
      (row) =>
        `  ${row
          .slice(0, 3)
          .map((cell, i) => cell.padStart(widths[i]!))
          .join('  ')}  ${row[3]}`,
    ),
  ].join('\n');
}

// The OpenTelemetry JS SDK stamps a span's start with Date.now() (whole milliseconds) and its end
// as start + a precise duration, so two spans of one process can seem to overlap or to follow each
// other by up to a millisecond: comparisons of one span's end with another's start allow for that.
const clockSlackNanos = 1_000_000n;

/** How long `pickup` waited after `cause` handed it over (never below 0). */
function handoverDelayMs(
  cause: TraceSpan,
  pickup: TraceSpan,
  children: ChildrenIndex,
  sequential = false,
): number {
  if (sequential || cause.endTimeUnixNano <= pickup.startTimeUnixNano + clockSlackNanos) {
    return Math.max(0, nanosBetween(cause.endTimeUnixNano, pickup.startTimeUnixNano));
  }
  // the cause waited for the work (a request running its flow, a client awaiting the server):
  // the handover is the end of the last thing it did before the work started
  let from = cause.startTimeUnixNano;
  for (const child of children.childrenOf(cause)) {
    const end = child.endTimeUnixNano;
    if (child !== pickup && end <= pickup.startTimeUnixNano + clockSlackNanos && end > from) from = end;
  }
  return Math.max(0, nanosBetween(from, pickup.startTimeUnixNano));
}

function crossesBoundary(span: TraceSpan, parent: TraceSpan): boolean {
  return (
    span.kind === 'server' ||
    span.kind === 'consumer' ||
    span.service !== parent.service ||
    // started after its parent ended: work left behind to run later
    span.startTimeUnixNano > parent.endTimeUnixNano + clockSlackNanos
  );
}

class ChildrenIndex {
  #store: TraceStore;
  #byTrace = new Map<string, Map<string, TraceSpan[]>>();

  constructor(store: TraceStore) {
    this.#store = store;
  }

  childrenOf(span: TraceSpan): TraceSpan[] {
    return this.#trace(span.traceId).get(span.spanId) ?? [];
  }

  parentOf(span: TraceSpan): TraceSpan | undefined {
    return span.parentSpanId ? this.#store.span(span.parentSpanId) : undefined;
  }

  descendantsOf(span: TraceSpan): TraceSpan[] {
    const out: TraceSpan[] = [];
    const stack = [...this.childrenOf(span)];
    while (stack.length > 0) {
      const next = stack.pop()!;
      out.push(next);
      stack.push(...this.childrenOf(next));
    }
    return out;
  }

  #trace(traceId: string): Map<string, TraceSpan[]> {
    let index = this.#byTrace.get(traceId);
    if (!index) {
      index = new Map();
      for (const span of this.#store.trace(traceId)) {
        if (!span.parentSpanId) continue;
        const list = index.get(span.parentSpanId);
        if (list) list.push(span);
        else index.set(span.parentSpanId, [span]);
      }
      this.#byTrace.set(traceId, index);
    }
    return index;
  }
}

function stepLabel(span: TraceSpan): string {
  const step = span.attributes['flow.step'];
  const attempt = span.attributes['flow.attempt'];
  const name = typeof step === 'string' ? `step ${step}` : span.name;
  return typeof attempt === 'number' && attempt > 1 ? `${name} (attempt ${attempt})` : name;
}

function labelOf(span: TraceSpan): string {
  if (span.attributes['flow.step'] !== undefined) return stepLabel(span);
  return span.service ? `${span.service}: ${span.name}` : span.name;
}

function byStart(a: TraceSpan, b: TraceSpan): number {
  return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0;
}

function nanosBetween(from: bigint, to: bigint): number {
  return Number(to - from) / 1e6;
}

function fixed(ms: number): string {
  return ms.toFixed(3);
}
