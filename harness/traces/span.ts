// The one shape every part of the trace tooling works on: an OTLP span with its ids as hex, its
// attributes as a plain object and its times both exact (ns, bigint) and handy (ms, number).

/** An attribute value after flattening: nested key-value lists become dotted keys. */
export type AttributeValue = string | number | boolean | AttributeValue[];
export type Attributes = Record<string, AttributeValue>;

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type SpanStatusName = 'unset' | 'ok' | 'error';

export interface SpanEvent {
  name: string;
  timeUnixNano: bigint;
  /** Milliseconds since the epoch, with sub-millisecond precision. */
  timeMs: number;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes: Attributes;
}

export interface TraceSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  traceState?: string;
  name: string;
  kind: SpanKindName;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Milliseconds since the epoch, with sub-millisecond precision (about 0.5 µs). */
  startMs: number;
  endMs: number;
  /** Exact: computed from the nanosecond times. */
  durationMs: number;
  attributes: Attributes;
  /** The resource's attributes; spans of one export share the object. */
  resource: Attributes;
  /** The resource's `service.name`. */
  service: string | undefined;
  scope: { name: string; version?: string };
  status: { code: SpanStatusName; message?: string };
  events: SpanEvent[];
  links: SpanLink[];
}

export const spanKinds: readonly SpanKindName[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];
export const statusCodes: readonly SpanStatusName[] = ['unset', 'ok', 'error'];

/** Epoch nanoseconds to epoch milliseconds, keeping the fraction a double can hold. */
export function nanosToMs(nanos: bigint): number {
  const wholeMs = nanos / 1_000_000n;
  return Number(wholeMs) + Number(nanos - wholeMs * 1_000_000n) / 1e6;
}

/** The `flow.id` attribute the control plane's flow engine puts on every step span. */
export function flowIdOf(span: TraceSpan): string | undefined {
  const value = span.attributes['flow.id'];
  return typeof value === 'string' ? value : undefined;
}
