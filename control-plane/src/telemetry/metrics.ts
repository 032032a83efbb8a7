import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The control plane's Prometheus metrics; one registry per app so tests can run several. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'planewright_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    flowStepDuration: new Histogram({
      name: 'planewright_flow_step_duration_seconds',
      help: 'Duration of one flow step attempt by flow type, step and outcome',
      labelNames: ['flow_type', 'step', 'outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    flowHandoff: new Histogram({
      name: 'planewright_flow_handoff_seconds',
      help: 'Delay between the end of one step and the start of the next',
      labelNames: ['flow_type'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    flowsFinished: new Counter({
      name: 'planewright_flows_finished_total',
      help: 'Flows that reached a final state, by type and state',
      labelNames: ['flow_type', 'state'] as const,
      registers: [registry],
    }),
    agentRequestsRejected: new Counter({
      name: 'planewright_agent_requests_rejected_total',
      help: 'Agent-gateway requests answered 429, by reason (agent_rate, global_rate, register_rate, snapshot_concurrency, waiters)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    agentSnapshots: new Counter({
      name: 'planewright_agent_snapshots_total',
      help: 'Snapshots served to agents, by source (not_modified: 304; cached, shared or built)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    reconcilerResyncs: new Counter({
      name: 'planewright_reconciler_resyncs_total',
      help: 'Resources the reconciler re-sent to the data plane, by finding (drift, stuck)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    reconcilerUnresolved: new Counter({
      name: 'planewright_reconciler_unresolved_total',
      help: 'Findings the reconciler gave up re-sending (marked unresolved), by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    /** Collected from the database at scrape time, so every process reports the same truth. */
    gauge(name: string, help: string, labelNames: string[], collect: (gauge: Gauge) => Promise<void>): Gauge {
      return new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          await collect(this);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
