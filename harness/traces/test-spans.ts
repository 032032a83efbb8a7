// Spans made by hand for the tests and the benchmark: times in milliseconds from an epoch, ids
// from a counter, everything else defaulted.

import { randomBytes } from 'node:crypto';
import { defineSlo } from './slo.ts';
import type { Attributes, TraceSpan } from './span.ts';
import { nanosToMs } from './span.ts';

const epochNanos = 1_700_000_000_000_000_000n;
let counter = 0;

export const newTraceId = (): string => randomBytes(16).toString('hex');
export const newSpanId = (): string => {
  counter += 1;
  return `${counter.toString(16).padStart(8, '0')}${randomBytes(4).toString('hex')}`;
};

const defaultResource: Attributes = { 'service.name': 'control-plane' };

export interface SpanSpec extends Partial<Omit<TraceSpan, 'startMs' | 'endMs' | 'durationMs'>> {
  /** Milliseconds after the tests' epoch (fractions allowed). */
  atMs: number;
  durationMs: number;
}

export function makeSpan(spec: SpanSpec): TraceSpan {
  const { atMs, durationMs, ...rest } = spec;
  const startTimeUnixNano = epochNanos + BigInt(Math.round(atMs * 1e6));
  const endTimeUnixNano = startTimeUnixNano + BigInt(Math.round(durationMs * 1e6));
  const resource = rest.resource ?? (rest.service ? { 'service.name': rest.service } : defaultResource);
  return {
    traceId: rest.traceId ?? newTraceId(),
    spanId: rest.spanId ?? newSpanId(),
    parentSpanId: rest.parentSpanId,
    name: rest.name ?? 'span',
    kind: rest.kind ?? 'internal',
    startTimeUnixNano,
    endTimeUnixNano,
    startMs: nanosToMs(startTimeUnixNano),
    endMs: nanosToMs(endTimeUnixNano),
    durationMs: Number(endTimeUnixNano - startTimeUnixNano) / 1e6,
    attributes: rest.attributes ?? {},
    resource,
    service: resource['service.name'] as string | undefined,
    scope: rest.scope ?? { name: 'test' },
    status: rest.status ?? { code: 'unset' },
    events: rest.events ?? [],
    links: rest.links ?? [],
  };
}

/** The step span the flow engine writes for one attempt of one step. */
export function stepSpan(
  flow: { id: string; type: string; traceId: string; parentSpanId?: string },
  step: string,
  atMs: number,
  durationMs: number,
  attempt = 1,
): TraceSpan {
  return makeSpan({
    traceId: flow.traceId,
    parentSpanId: flow.parentSpanId,
    name: `flow ${flow.type} ${step}`,
    atMs,
    durationMs,
    attributes: { 'flow.id': flow.id, 'flow.type': flow.type, 'flow.step': step, 'flow.attempt': attempt },
  });
}

/** SLOs over the spans these helpers make: a step percentile, a flow from request to webhook, and one that sees no data. */
export const sampleSlos = [
  defineSlo({
    name: 'activate step',
    flow: 'create-api-key',
    from: { step: 'activate' },
    percentile: { p: 99, max: 50 },
  }),
  defineSlo({
    name: 'request to webhook',
    flow: 'create-api-key',
    from: 'POST /v1/orgs/*',
    to: { name: 'webhook.deliver', service: 'notify' },
    max: 100,
  }),
  defineSlo({ name: 'never seen', from: 'DELETE /v1/users/me', max: 10 }),
];
