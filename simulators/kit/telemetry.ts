// Trace export for a simulator run alone (`planewright sim`): with OTEL_EXPORTER_OTLP_ENDPOINT
// set, spans go over OTLP/HTTP; without it nothing is loaded and the OpenTelemetry API stays the
// no-op it is by default. In-process simulators share whatever SDK their host process registered.
export interface SimulatorTelemetry {
  readonly enabled: boolean;
  /** Exports buffered spans, bounded by `timeoutMs`. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export async function startSimulatorTelemetry(options: {
  serviceName: string;
  endpoint: string | undefined;
}): Promise<SimulatorTelemetry> {
  if (!options.endpoint) return { enabled: false, shutdown: async () => {} };
  const [
    { NodeTracerProvider },
    { BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { W3CTraceContextPropagator },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  // the exporter reads OTEL_EXPORTER_OTLP_* itself (it appends /v1/traces to the endpoint)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return {
    enabled: true,
    async shutdown(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs).unref();
      });
      await Promise.race([provider.shutdown().catch(() => {}), deadline]);
      clearTimeout(timer);
    },
  };
}
