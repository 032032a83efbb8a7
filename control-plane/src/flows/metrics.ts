import type { Config } from '../config.ts';
import type { Db } from '../db/pool.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/** Flow counts by type and state, and stuck flows, read from the database when Prometheus scrapes. */
export function registerFlowGauges(metrics: Metrics, db: Db, config: Config): void {
  metrics.gauge('planewright_flows', 'Flows by type and state', ['flow_type', 'state'], async (gauge) => {
    const { rows } = await db.query<{ type: string; state: string; count: number }>(
      'SELECT type, state, count(*)::int AS count FROM flows GROUP BY type, state',
    );
    gauge.reset();
    for (const row of rows) gauge.set({ flow_type: row.type, state: row.state }, row.count);
  });
  metrics.gauge(
    'planewright_flows_stuck',
    `Unfinished flows that have been in one state longer than FLOW_STUCK_AFTER_MS (${config.FLOW_STUCK_AFTER_MS} ms)`,
    ['flow_type', 'state'],
    async (gauge) => {
      const { rows } = await db.query<{ type: string; state: string; count: number }>(
        `SELECT type, state, count(*)::int AS count FROM flows
          WHERE state IN ('pending', 'running', 'waiting')
            AND state_changed_at < now() - make_interval(secs => $1 / 1000.0)
          GROUP BY type, state`,
        [config.FLOW_STUCK_AFTER_MS],
      );
      gauge.reset();
      for (const row of rows) gauge.set({ flow_type: row.type, state: row.state }, row.count);
    },
  );
}
