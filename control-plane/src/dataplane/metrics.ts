import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { OutboxListener } from './outbox-listener.ts';

/** The data plane's gauges: waiting long-polls (this process), and from the database at scrape
 * time the reconciler's findings and the agents by cell and freshness. */
export function registerDataPlaneGauges(
  metrics: Metrics,
  db: Db,
  config: Config,
  outboxListener: OutboxListener,
): void {
  metrics.gauge(
    'planewright_agent_long_polls_waiting',
    'Agent long-polls waiting in this process',
    [],
    async (gauge) => {
      gauge.set(outboxListener.waiting);
    },
  );
  metrics.gauge(
    'planewright_reconciler_findings',
    'Resources with a reconciler finding, by kind (drift, stuck) and state (converging, unresolved)',
    ['kind', 'state'],
    async (gauge) => {
      const { rows } = await db.query<{ kind: string; state: string; count: number }>(
        `SELECT reconcile->>'kind' AS kind, reconcile->>'state' AS state, count(*)::int AS count
           FROM resources WHERE reconcile IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2`,
      );
      gauge.reset();
      for (const row of rows) gauge.set({ kind: row.kind, state: row.state }, row.count);
    },
  );
  metrics.gauge(
    'planewright_agents',
    `Registered agents by cell, and whether they are stale (no heartbeat for RECONCILE_STALE_AGENT_MS, ${config.RECONCILE_STALE_AGENT_MS} ms)`,
    ['cell', 'stale'],
    async (gauge) => {
      const { rows } = await db.query<{ cell_id: string; stale: boolean; count: number }>(
        `SELECT cell_id, COALESCE(last_seen_at, registered_at) < now() - make_interval(secs => $1 / 1000.0) AS stale,
                count(*)::int AS count
           FROM agents WHERE revoked_at IS NULL GROUP BY 1, 2`,
        [config.RECONCILE_STALE_AGENT_MS],
      );
      gauge.reset();
      for (const row of rows) gauge.set({ cell: row.cell_id, stale: String(row.stale) }, row.count);
    },
  );
}
