// Traces: an OTLP/HTTP receiver for test runs, a store queried by trace, flow or attribute, flow
// timelines, SLO checks, and exports (Jaeger JSON, OTLP JSON lines, OTLP onward). See docs/traces.md.

// the receiver
export {
  type StartedTraceCollector,
  startTraceCollector,
  type TraceCollectorOptions,
  type TraceCollectorStats,
} from './collector.ts';
export type { ForwarderStats, ForwardOptions } from './forwarder.ts';
// exports: Jaeger's JSON, and OTLP JSON lines for run folders
export { type JaegerDocument, type JaegerSpan, type JaegerTrace, toJaegerJson } from './jaeger.ts';
export { createOtlpJsonlWriter, loadOtlpJsonl, type OtlpJsonlWriter, readOtlpJsonl } from './jsonl.ts';
// which spans: by name, service, kind, status, flow, step or attribute
export { compileMatcher, type NamePattern, type SpanMatch, type SpanMatcher } from './matcher.ts';
// OTLP itself, for tools that read or write it directly
export { type DecodedSpans, spansFromOtlp } from './otlp-decode.ts';
export { type OtlpTraceRequest, toOtlpJson } from './otlp-encode.ts';
export { decodeTraceRequestProto, encodeTraceRequestProto } from './otlp-proto.ts';
// SLOs: in code or in a YAML/JSON file; a table and the CLI's exit code
export { checkSlos, defineSlo, type Slo, type SloDefinition, type SloResult } from './slo.ts';
export { loadSlos, parseSlos } from './slo-file.ts';
export { formatSloTable, sloExitCode } from './slo-table.ts';
// spans and where they are kept
export type {
  Attributes,
  AttributeValue,
  SpanEvent,
  SpanKindName,
  SpanLink,
  SpanStatusName,
  TraceSpan,
} from './span.ts';
export { TraceStore, type TraceStoreOptions, type TraceStoreStats } from './store.ts';
// flows as timelines: steps, the work they set off, the waits between
export { type FlowTimeline, flowTimeline, formatTimeline, type TimelineEntry } from './timeline.ts';
export type { SpanCondition, WaitOptions } from './wait.ts';
