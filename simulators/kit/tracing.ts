// One span per request, continuing the caller's W3C trace, and spans for work a request leaves
// behind (a webhook or SMS delivery) that are linked to that request rather than nested in it: the
// work may run long after the request has ended, retried over hours, and a link is how OpenTelemetry
// relates such work to its cause. Without a registered SDK the API is a no-op and costs nothing.
import {
  type Attributes,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import { infoOf } from './requests.ts';

const tracer = () => trace.getTracer('planewright-simulator');

/** Starts the request's span as a child of the caller's `traceparent`, and ends it when the response closes. */
export function traceRequests(simulator: string): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path, 'sim.name': simulator },
      },
      parent,
    );
    const info = infoOf(req);
    info.span = span;
    res.once('close', () => {
      if (req.route) span.updateName(`${req.method} ${req.baseUrl}${req.route.path}`);
      if (info.requestId) span.setAttribute('sim.request_id', info.requestId);
      if (info.fault)
        span.setAttributes({ 'sim.fault.kind': info.fault.kind, 'sim.fault.rule': info.rule ?? '' });
      if (res.headersSent) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        // a reset, a hang, or a client that left: no response was sent
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'no response sent' });
      }
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** The span context of a request, to link later work to it. */
export function spanContextOf(req: Request): SpanContext | undefined {
  return infoOf(req).span?.spanContext();
}

export interface LinkedSpanOptions {
  attributes?: Attributes;
  /** Default INTERNAL; CLIENT for a span that is itself the outgoing call. */
  kind?: SpanKind;
}

/**
 * Runs `fn` in a new root span linked to `cause` (a request, or a span context saved from one);
 * records an exception and an error status when `fn` throws, and always ends the span.
 * @example await ctx.inLinkedSpan('webhook.deliver', req, async () => post(url, ctx.traceHeaders()))
 */
export async function inLinkedSpan<T>(
  name: string,
  cause: Request | SpanContext | undefined,
  fn: (span: Span) => Promise<T>,
  options: LinkedSpanOptions = {},
): Promise<T> {
  const causeContext = cause && 'traceId' in cause ? cause : cause ? spanContextOf(cause) : undefined;
  const links = causeContext && isSpanContextValid(causeContext) ? [{ context: causeContext }] : [];
  const spanOptions = {
    root: true,
    links,
    kind: options.kind ?? SpanKind.INTERNAL,
    attributes: options.attributes,
  };
  return tracer().startActiveSpan(name, spanOptions, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** `traceparent` (and `tracestate`) of the active span, for an outgoing call such as a webhook. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
