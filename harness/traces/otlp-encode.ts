// TraceSpans back to an OTLP/JSON ExportTraceServiceRequest (hex ids, int64 as strings), grouped
// by resource and scope as an exporter would send them. Flattened attributes stay flat: a nested
// key-value list comes back as dotted keys, and an integral double as an int.
import type { Attributes, AttributeValue, TraceSpan } from './span.ts';
import { spanKinds, statusCodes } from './span.ts';

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } };

export interface OtlpTraceRequest {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: object[] }[];
  }[];
}

export function toOtlpJson(spans: Iterable<TraceSpan>): OtlpTraceRequest {
  const byResource = new Map<Attributes, Map<TraceSpan['scope'], TraceSpan[]>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) {
      scopes = new Map();
      byResource.set(span.resource, scopes);
    }
    const list = scopes.get(span.scope);
    if (list) list.push(span);
    else scopes.set(span.scope, [span]);
  }
  return {
    resourceSpans: [...byResource].map(([resource, scopes]) => ({
      resource: { attributes: keyValuesOf(resource) },
      scopeSpans: [...scopes].map(([scope, list]) => ({ scope, spans: list.map(spanJson) })),
    })),
  };
}

function spanJson(span: TraceSpan): object {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    ...(span.traceState ? { traceState: span.traceState } : {}),
    name: span.name,
    kind: spanKinds.indexOf(span.kind),
    startTimeUnixNano: span.startTimeUnixNano.toString(),
    endTimeUnixNano: span.endTimeUnixNano.toString(),
    attributes: keyValuesOf(span.attributes),
    events: span.events.map((event) => ({
      timeUnixNano: event.timeUnixNano.toString(),
      name: event.name,
      attributes: keyValuesOf(event.attributes),
    })),
    links: span.links.map((link) => ({
      traceId: link.traceId,
      spanId: link.spanId,
      ...(link.traceState ? { traceState: link.traceState } : {}),
      attributes: keyValuesOf(link.attributes),
    })),
    status: {
      code: statusCodes.indexOf(span.status.code),
      ...(span.status.message ? { message: span.status.message } : {}),
    },
  };
}

export function keyValuesOf(attributes: Attributes): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValueOf(value) }));
}

function anyValueOf(value: AttributeValue): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  }
  return { arrayValue: { values: value.map(anyValueOf) } };
}
