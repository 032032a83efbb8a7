// Traces in Jaeger's JSON format, the one its query API returns and its UI opens ("JSON File" on
// the search page): microsecond times, the parent as a CHILD_OF reference, links as FOLLOWS_FROM,
// and the tags Jaeger's own OTLP translator writes (span.kind, otel.status_code, error, otel.scope.*).
import type { Attributes, AttributeValue, TraceSpan } from './span.ts';
import { TraceStore } from './store.ts';

export interface JaegerTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | number | boolean;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  flags: number;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
  warnings: string[] | null;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
  warnings: string[] | null;
}

export interface JaegerDocument {
  data: JaegerTrace[];
}

/**
 * The spans (all of a store's, or of `traceIds`) as a Jaeger JSON document, one entry per trace.
 * @example writeFileSync('runs/x/jaeger.json', JSON.stringify(toJaegerJson(traces.store)))
 */
export function toJaegerJson(
  spans: TraceStore | Iterable<TraceSpan>,
  options: { traceIds?: readonly string[] } = {},
): JaegerDocument {
  const byTrace = new Map<string, TraceSpan[]>();
  if (spans instanceof TraceStore && options.traceIds) {
    for (const traceId of options.traceIds) byTrace.set(traceId, spans.trace(traceId));
  } else {
    const wanted = options.traceIds ? new Set(options.traceIds) : undefined;
    for (const span of spans) {
      if (wanted && !wanted.has(span.traceId)) continue;
      const list = byTrace.get(span.traceId);
      if (list) list.push(span);
      else byTrace.set(span.traceId, [span]);
    }
  }
  const data: JaegerTrace[] = [];
  for (const [traceID, list] of byTrace) {
    if (list.length === 0) continue;
    const processes: JaegerTrace['processes'] = {};
    const processIds = new Map<Attributes, string>();
    const processOf = (span: TraceSpan) => {
      let id = processIds.get(span.resource);
      if (!id) {
        id = `p${processIds.size + 1}`;
        processIds.set(span.resource, id);
        const { 'service.name': _, ...rest } = span.resource;
        processes[id] = { serviceName: span.service ?? 'unknown_service', tags: tagsOf(rest) };
      }
      return id;
    };
    data.push({
      traceID,
      spans: list.map((span) => jaegerSpan(span, processOf(span))),
      processes,
      warnings: null,
    });
  }
  return { data };
}

function jaegerSpan(span: TraceSpan, processID: string): JaegerSpan {
  const tags = tagsOf(span.attributes);
  if (span.kind !== 'unspecified') tags.push({ key: 'span.kind', type: 'string', value: span.kind });
  if (span.scope.name) tags.push({ key: 'otel.scope.name', type: 'string', value: span.scope.name });
  if (span.scope.version) tags.push({ key: 'otel.scope.version', type: 'string', value: span.scope.version });
  if (span.status.code !== 'unset') {
    tags.push({ key: 'otel.status_code', type: 'string', value: span.status.code.toUpperCase() });
  }
  if (span.status.message) {
    tags.push({ key: 'otel.status_description', type: 'string', value: span.status.message });
  }
  if (span.status.code === 'error') tags.push({ key: 'error', type: 'bool', value: true });
  return {
    traceID: span.traceId,
    spanID: span.spanId,
    flags: 1,
    operationName: span.name,
    references: [
      ...(span.parentSpanId
        ? [{ refType: 'CHILD_OF' as const, traceID: span.traceId, spanID: span.parentSpanId }]
        : []),
      ...span.links.map((link) => ({
        refType: 'FOLLOWS_FROM' as const,
        traceID: link.traceId,
        spanID: link.spanId,
      })),
    ],
    startTime: Number(span.startTimeUnixNano / 1000n),
    duration: Number((span.endTimeUnixNano - span.startTimeUnixNano) / 1000n),
    tags,
    logs: span.events.map((event) => ({
      timestamp: Number(event.timeUnixNano / 1000n),
      fields: [{ key: 'event', type: 'string', value: event.name }, ...tagsOf(event.attributes)],
    })),
    processID,
    warnings: null,
  };
}

function tagsOf(attributes: Attributes): JaegerTag[] {
  return Object.entries(attributes).map(([key, value]) => tagOf(key, value));
}

function tagOf(key: string, value: AttributeValue): JaegerTag {
  if (typeof value === 'string') return { key, type: 'string', value };
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value };
  // Jaeger has no array type: its translator writes arrays as JSON strings too
  return { key, type: 'string', value: JSON.stringify(value) };
}
