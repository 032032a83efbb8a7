// An ExportTraceServiceRequest (parsed OTLP/JSON, or decoded protobuf with the same keys) to
// TraceSpans. A body whose shape is wrong is refused whole; a span with a bad id or time is refused
// alone and counted, so the sender gets a partial success naming what was wrong.
import { PlanewrightError } from '../errors.ts';
import {
  type Attributes,
  type AttributeValue,
  nanosToMs,
  type SpanEvent,
  type SpanKindName,
  type SpanLink,
  type SpanStatusName,
  spanKinds,
  statusCodes,
  type TraceSpan,
} from './span.ts';

export interface DecodedSpans {
  spans: TraceSpan[];
  /** Spans refused (bad ids or times); the rest were kept. */
  rejected: number;
  /** Why, for the first few refused spans. */
  problems: string[];
}

type Json = Record<string, unknown>;

const maxProblems = 5;

/** @throws PlanewrightError `PW_OTLP_INVALID` when the request itself is not an ExportTraceServiceRequest. */
export function spansFromOtlp(request: unknown): DecodedSpans {
  if (!isObject(request)) throw invalid('the body is not an ExportTraceServiceRequest object');
  const out: DecodedSpans = { spans: [], rejected: 0, problems: [] };
  const resourceSpansList = listAt(request, 'resourceSpans', 'resourceSpans');
  resourceSpansList.forEach((resourceSpans, r) => {
    if (!isObject(resourceSpans)) throw invalid(`resourceSpans[${r}] is not an object`);
    const resourceJson = resourceSpans.resource;
    const resource = isObject(resourceJson) ? attributesOf(resourceJson.attributes) : {};
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined;
    const scopeSpansList = listAt(resourceSpans, 'scopeSpans', `resourceSpans[${r}].scopeSpans`);
    scopeSpansList.forEach((scopeSpans, s) => {
      const where = `resourceSpans[${r}].scopeSpans[${s}]`;
      if (!isObject(scopeSpans)) throw invalid(`${where} is not an object`);
      const scopeJson = isObject(scopeSpans.scope) ? scopeSpans.scope : {};
      const scope = {
        name: typeof scopeJson.name === 'string' ? scopeJson.name : '',
        ...(typeof scopeJson.version === 'string' && scopeJson.version ? { version: scopeJson.version } : {}),
      };
      const spans = listAt(scopeSpans, 'spans', `${where}.spans`);
      spans.forEach((json, i) => {
        try {
          out.spans.push(spanOf(json, resource, service, scope));
        } catch (error) {
          out.rejected += 1;
          if (out.problems.length < maxProblems) {
            out.problems.push(`${where}.spans[${i}]: ${(error as Error).message}`);
          }
        }
      });
    });
  });
  return out;
}

function spanOf(
  json: unknown,
  resource: Attributes,
  service: string | undefined,
  scope: TraceSpan['scope'],
): TraceSpan {
  if (!isObject(json)) throw new Error('not an object');
  const traceId = idOf(json.traceId, 16, 'traceId');
  const spanId = idOf(json.spanId, 8, 'spanId');
  const parent = json.parentSpanId;
  const parentSpanId =
    parent === undefined || parent === '' || (parent instanceof Uint8Array && parent.length === 0)
      ? undefined
      : idOf(parent, 8, 'parentSpanId');
  const startTimeUnixNano = nanosOf(json.startTimeUnixNano, 'startTimeUnixNano');
  const endTimeUnixNano = nanosOf(json.endTimeUnixNano, 'endTimeUnixNano');
  const status = isObject(json.status) ? json.status : {};
  const span: TraceSpan = {
    traceId,
    spanId,
    parentSpanId,
    name: typeof json.name === 'string' ? json.name : '',
    kind: enumOf(json.kind, spanKinds, 'SPAN_KIND_') as SpanKindName,
    startTimeUnixNano,
    endTimeUnixNano,
    startMs: nanosToMs(startTimeUnixNano),
    endMs: nanosToMs(endTimeUnixNano),
    durationMs: Number(endTimeUnixNano - startTimeUnixNano) / 1e6,
    attributes: attributesOf(json.attributes),
    resource,
    service,
    scope,
    status: {
      code: enumOf(status.code, statusCodes, 'STATUS_CODE_') as SpanStatusName,
      ...(typeof status.message === 'string' && status.message ? { message: status.message } : {}),
    },
    events: Array.isArray(json.events) ? json.events.filter(isObject).map(eventOf) : [],
    links: Array.isArray(json.links) ? json.links.flatMap(linkOf) : [],
  };
  if (typeof json.traceState === 'string' && json.traceState) span.traceState = json.traceState;
  return span;
}

function eventOf(json: Json): SpanEvent {
  const timeUnixNano = nanosOf(json.timeUnixNano, 'events[].timeUnixNano');
  return {
    name: typeof json.name === 'string' ? json.name : '',
    timeUnixNano,
    timeMs: nanosToMs(timeUnixNano),
    attributes: attributesOf(json.attributes),
  };
}

// a link to a span that cannot be named is no link: dropped, the span itself is kept
function linkOf(json: unknown): SpanLink[] {
  if (!isObject(json)) return [];
  try {
    const link: SpanLink = {
      traceId: idOf(json.traceId, 16, 'traceId'),
      spanId: idOf(json.spanId, 8, 'spanId'),
      attributes: attributesOf(json.attributes),
    };
    if (typeof json.traceState === 'string' && json.traceState) link.traceState = json.traceState;
    return [link];
  } catch {
    return [];
  }
}

const hexIds = [/^$/, /^[0-9a-fA-F]{2}$/];
for (let bytes = 2; bytes <= 16; bytes++) hexIds[bytes] = new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`);
const zeros = /^0+$/;

function idOf(value: unknown, bytes: 8 | 16, name: string): string {
  let hex: string;
  if (typeof value === 'string') {
    if (!hexIds[bytes]!.test(value)) throw new Error(`${name} must be ${bytes * 2} hex digits`);
    hex = value.toLowerCase();
  } else if (value instanceof Uint8Array) {
    if (value.length !== bytes) throw new Error(`${name} must be ${bytes} bytes, not ${value.length}`);
    hex = Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex');
  } else {
    throw new Error(`${name} is missing`);
  }
  if (zeros.test(hex)) throw new Error(`${name} is all zeros`);
  return hex;
}

const digits = /^\d+$/;

function nanosOf(value: unknown, name: string): bigint {
  if (typeof value === 'string' && digits.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (value === undefined) return 0n;
  throw new Error(`${name} must be an unsigned integer (nanoseconds), got ${JSON.stringify(value)}`);
}

function enumOf(value: unknown, names: readonly string[], prefix: string): string {
  if (typeof value === 'number') return names[value] ?? names[0]!;
  if (typeof value === 'string' && value.startsWith(prefix)) {
    const name = value.slice(prefix.length).toLowerCase();
    if (names.includes(name)) return name;
  }
  return names[0]!;
}

/** OTLP KeyValue list to a plain object; a nested key-value list becomes dotted keys. */
export function attributesOf(list: unknown, into: Attributes = {}, prefix = ''): Attributes {
  if (!Array.isArray(list)) return into;
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string') continue;
    const value = kv.value;
    const key = prefix + kv.key;
    if (isObject(value) && isObject(value.kvlistValue)) {
      attributesOf(value.kvlistValue.values, into, `${key}.`);
      continue;
    }
    const converted = anyValueOf(value);
    if (converted !== undefined) into[key] = converted;
  }
  return into;
}

function anyValueOf(value: unknown): AttributeValue | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== undefined) {
    const raw = value.intValue;
    const number = typeof raw === 'number' ? raw : Number(raw);
    // beyond 2^53 a number would round: keep the decimal string
    return Number.isSafeInteger(number) ? number : String(raw);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (isObject(value.arrayValue)) {
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
    return values.map((each) => {
      const flat =
        isObject(each) && isObject(each.kvlistValue) ? attributesOf(each.kvlistValue.values) : undefined;
      return flat ? JSON.stringify(flat) : (anyValueOf(each) ?? '');
    });
  }
  if (value.bytesValue instanceof Uint8Array) return Buffer.from(value.bytesValue).toString('base64');
  if (typeof value.bytesValue === 'string') return value.bytesValue;
  return undefined;
}

function listAt(json: Json, key: string, where: string): unknown[] {
  const value = json[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where} is not an array`);
  return value;
}

function isObject(value: unknown): value is Json {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function invalid(message: string): PlanewrightError {
  return new PlanewrightError('PW_OTLP_INVALID', message, 'send an OTLP ExportTraceServiceRequest');
}
