// Traces of the simulators an environment runs in its own process. OpenTelemetry's tracer provider
// is global to a process and registers once, while a process may start several environments one
// after another (each with its own collector): one provider is registered on first use, and its
// exporter sends to whichever environment's collector is current. The kit's spans then join the
// control plane's traces (W3C traceparent on the SDKs' requests), so a flow's whole life — the
// request, the steps, the vendors' work (a webhook, an email delivered) — is in one collector.
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

let target: SpanExporter | undefined;
let registered: Promise<{ flush(): Promise<void> }> | undefined;

/** A span exporter that forwards to the current collector; spans with none are dropped. */
class CurrentCollectorExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (target) target.export(spans, done);
    else done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** Sends this process's in-process simulator spans to `collectorUrl` (…/v1/traces) until the returned stop. */
export async function traceSimulatorsTo(collectorUrl: string, serviceName = 'planewright-simulators') {
  registered ??= (async () => {
    const [
      { NodeTracerProvider },
      { BatchSpanProcessor },
      { resourceFromAttributes },
      { W3CTraceContextPropagator },
    ] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
    ]);
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      spanProcessors: [new BatchSpanProcessor(new CurrentCollectorExporter(), { scheduledDelayMillis: 100 })],
    });
    provider.register({ propagator: new W3CTraceContextPropagator() });
    return { flush: () => provider.forceFlush() };
  })();
  const provider = await registered;
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const exporter = new OTLPTraceExporter({ url: collectorUrl });
  target = exporter;
  return {
    /** Flushes what is buffered to this collector, then stops sending to it. */
    async stop(): Promise<void> {
      await provider.flush().catch(() => {});
      if (target === exporter) target = undefined;
      await exporter.shutdown().catch(() => {});
    },
  };
}
