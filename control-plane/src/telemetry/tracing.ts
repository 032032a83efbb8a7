import { type Attributes, context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

// The API is a no-op until telemetry/sdk.ts registers a provider, so spans cost nothing when tracing is off.
const tracer = () => trace.getTracer('planewright-control-plane');

/** The W3C traceparent of the active span, to persist with work that continues later. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `fn` in a span (a child of `traceparent` when given, else of the active span); records an
 * exception and an error status when `fn` throws, and always ends the span.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  traceparent?: string | null,
): Promise<T> {
  const parent = traceparent ? propagation.extract(context.active(), { traceparent }) : context.active();
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
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
