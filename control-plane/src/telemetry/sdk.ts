// The OpenTelemetry SDK, started by server.ts before the app is imported. Without
// OTEL_EXPORTER_OTLP_ENDPOINT nothing here loads: no SDK module is imported, no loader hook or
// provider is registered, and @opentelemetry/api stays the no-op it is by default.
import { register } from 'node:module';
import type { Config } from '../config.ts';

export interface Telemetry {
  /** True when spans are exported. */
  readonly enabled: boolean;
  /** Exports the spans still buffered, then stops the provider; bounded by `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

const disabled: Telemetry = { enabled: false, shutdown: async () => {} };

// Probes arrive every few seconds from load balancers and the harness: tracing them is only noise.
const untracedPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts tracing (http, express and pg instrumentation; W3C trace context; batched OTLP/HTTP
 * export with JSON bodies) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Must run before express,
 * pg or the app are imported: ESM imports are only patched when the loader hook is in place
 * first, so the caller imports the app dynamically afterwards.
 */
export async function startTelemetry(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
): Promise<Telemetry> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return disabled;

  const [
    { NodeTracerProvider },
    { BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { ATTR_SERVICE_NAME },
    { W3CTraceContextPropagator },
    { registerInstrumentations },
    { HttpInstrumentation },
    { ExpressInstrumentation },
    { PgInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/core'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-pg'),
  ]);

  const instrumentations = [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => untracedPaths.has((request.url ?? '').split('?')[0]!),
    }),
    new ExpressInstrumentation(),
    // a query outside any request or flow step (the flow sweep, LISTEN) would be a lone root span
    // every second; parameter values stay out of spans (enhancedDatabaseReporting is off) so no
    // customer secret reaches a trace
    new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
  ];
  // The import-in-the-middle hook wraps only the modules these instrumentations patch: wrapping
  // every module would slow start-up and can break modules that the hook cannot re-export.
  const include = [
    ...new Set(instrumentations.flatMap((each) => each.getModuleDefinitions().map((module) => module.name))),
  ];
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include } });

  // The exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (traces endpoint,
  // headers, timeout), and the batch processor OTEL_BSP_*; the endpoint gets /v1/traces appended.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({ tracerProvider: provider, instrumentations });

  return {
    enabled: true,
    async shutdown(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs).unref();
      });
      // an unreachable collector must not hold the process past its shutdown budget
      await Promise.race([provider.shutdown().catch(() => {}), deadline]);
      clearTimeout(timer);
    },
  };
}
