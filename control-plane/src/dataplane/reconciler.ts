// The reconciler (issue 5, item 9): compares desired and observed state per resource. Drift (the
// data plane runs another spec at the desired generation, as when an engineer changed it by hand)
// is detected as status reports arrive (status.ts); this pass finds resources stuck before their
// observed generation reaches the desired one, re-sends both kinds (`resource.resync`) with a
// doubling backoff, marks them `unresolved` once re-sending has not helped, and lists agents whose
// heartbeats stopped. Everything it finds is in the admin API, the audit log and the metrics.
import type { Logger } from 'pino';
import { recordAudit } from '../audit.ts';
import type { Config } from '../config.ts';
import { type Db, type Queryable, withTransaction } from '../db/pool.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { startPeriodic } from './periodic.ts';
import type { ReconcileFinding } from './status.ts';

export interface ReconcileOptions {
  /** A resource whose desired generation is not observed this long after it changed is stuck. */
  stuckAfterMs: number;
  /** Re-sends per finding before it is marked `unresolved`. */
  maxResyncs: number;
  /** Wait before the second re-send; it doubles after each (the first is immediate). */
  resyncBackoffMs: number;
  /** At most this many resources are handled per pass (the rest in the next). */
  batchSize?: number;
}

export interface ReconcilePassResult {
  stuckDetected: string[];
  resynced: Array<{ resourceId: string; kind: ReconcileFinding['kind'] }>;
  unresolved: Array<{ resourceId: string; kind: ReconcileFinding['kind'] }>;
}

/**
 * One pass. Safe to run in several processes at once: rows are claimed with SKIP LOCKED.
 *
 * @example const { resynced } = await reconcileOnce(db, { stuckAfterMs: 120_000, maxResyncs: 5, resyncBackoffMs: 5_000 })
 */
export async function reconcileOnce(db: Db, options: ReconcileOptions): Promise<ReconcilePassResult> {
  const batchSize = options.batchSize ?? 500;
  return withTransaction(db, async (tx) => {
    const stuck = await tx.query<{ id: string; org_id: string; generation: number }>(
      `UPDATE resources SET reconcile = jsonb_build_object('kind', 'stuck', 'state', 'converging',
              'detectedAt', to_jsonb(now()), 'resyncs', 0)
        WHERE id IN (SELECT id FROM resources
                      WHERE reconcile IS NULL AND cell_id IS NOT NULL AND deleted_at IS NULL AND phase <> 'deleted'
                        AND observed_generation < generation
                        AND desired_at < now() - make_interval(secs => $1::double precision / 1000)
                      ORDER BY desired_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING id, org_id, generation`,
      [options.stuckAfterMs, batchSize],
    );
    for (const row of stuck.rows) {
      await audit(tx, row.org_id, 'resource.stuck_detected', row.id, { generation: Number(row.generation) });
    }
    // due: never re-sent, or re-sent longer ago than the backoff for the count so far
    const due = await tx.query<{ id: string; org_id: string; reconcile: ReconcileFinding }>(
      `SELECT id, org_id, reconcile FROM resources
        WHERE reconcile->>'state' = 'converging' AND deleted_at IS NULL
          AND (reconcile->>'lastResyncAt' IS NULL OR (reconcile->>'lastResyncAt')::timestamptz < now()
               - make_interval(secs => $1::double precision / 1000
                                        * power(2, LEAST((reconcile->>'resyncs')::int - 1, 16))))
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [options.resyncBackoffMs, batchSize],
    );
    const result: ReconcilePassResult = {
      stuckDetected: stuck.rows.map((row) => row.id),
      resynced: [],
      unresolved: [],
    };
    for (const row of due.rows) {
      const finding = row.reconcile;
      if (finding.resyncs >= options.maxResyncs) {
        await setFinding(tx, row.id, { ...finding, state: 'unresolved' });
        await audit(tx, row.org_id, 'resource.reconcile_unresolved', row.id, {
          kind: finding.kind,
          resyncs: finding.resyncs,
        });
        result.unresolved.push({ resourceId: row.id, kind: finding.kind });
        continue;
      }
      const { rows } = await tx.query<{ sent: boolean }>('SELECT outbox_resync($1) AS sent', [row.id]);
      if (!rows[0]?.sent) {
        // no longer live in a cell (deleted or unplaced meanwhile): nothing to converge
        await setFinding(tx, row.id, null);
        continue;
      }
      const lastResyncAt = new Date().toISOString();
      await setFinding(tx, row.id, { ...finding, resyncs: finding.resyncs + 1, lastResyncAt });
      result.resynced.push({ resourceId: row.id, kind: finding.kind });
    }
    return result;
  });
}

const setFinding = (db: Queryable, resourceId: string, finding: ReconcileFinding | null) =>
  db.query('UPDATE resources SET reconcile = $2 WHERE id = $1', [
    resourceId,
    finding && JSON.stringify(finding),
  ]);

const audit = (db: Queryable, orgId: string, action: string, resourceId: string, data: object) =>
  recordAudit(db, undefined, {
    orgId,
    action,
    targetType: 'resource',
    targetId: resourceId,
    data: data as Record<string, unknown>,
  });

/** A resource the reconciler has a finding on, as the admin API lists it. */
export interface ReconcileFindingView extends ReconcileFinding {
  resourceId: string;
  orgId: string;
  cell: string | null;
  generation: number;
  observedGeneration: number;
}

export async function listFindings(db: Queryable, limit = 500): Promise<ReconcileFindingView[]> {
  const { rows } = await db.query<{
    id: string;
    org_id: string;
    cell_id: string | null;
    generation: number;
    observed_generation: number;
    reconcile: ReconcileFinding;
  }>(
    `SELECT id, org_id, cell_id, generation, observed_generation, reconcile FROM resources
      WHERE reconcile IS NOT NULL AND deleted_at IS NULL ORDER BY (reconcile->>'detectedAt'), id LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    ...row.reconcile,
    resourceId: row.id,
    orgId: row.org_id,
    cell: row.cell_id,
    generation: Number(row.generation),
    observedGeneration: Number(row.observed_generation),
  }));
}

export interface AgentView {
  agentId: string;
  name: string;
  cell: string;
  registeredAt: string;
  lastSeenAt: string | null;
  appliedSequence: number | null;
  /** No heartbeat within the stale threshold (or none at all since registering that long ago). */
  stale: boolean;
}

/** Agents that are not revoked, stale ones first; `staleAfterMs` is the heartbeat silence that counts. */
export async function listAgents(
  db: Queryable,
  options: { staleAfterMs: number; cell?: string; staleOnly?: boolean; limit?: number },
): Promise<AgentView[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    cell_id: string;
    registered_at: Date;
    last_seen_at: Date | null;
    applied_sequence: number | null;
    stale: boolean;
  }>(
    `SELECT * FROM (
       SELECT id, name, cell_id, registered_at, last_seen_at, applied_sequence,
              COALESCE(last_seen_at, registered_at) < now() - make_interval(secs => $1::double precision / 1000) AS stale
         FROM agents WHERE revoked_at IS NULL AND ($2::text IS NULL OR cell_id = $2)) a
      WHERE NOT $3 OR stale
      ORDER BY stale DESC, cell_id, name LIMIT $4`,
    [options.staleAfterMs, options.cell ?? null, options.staleOnly ?? false, options.limit ?? 1000],
  );
  return rows.map((row) => ({
    agentId: row.id,
    name: row.name,
    cell: row.cell_id,
    registeredAt: row.registered_at.toISOString(),
    lastSeenAt: row.last_seen_at?.toISOString() ?? null,
    appliedSequence: row.applied_sequence === null ? null : Number(row.applied_sequence),
    stale: row.stale,
  }));
}

/**
 * Runs a pass every `intervalMs` (0: never; the admin API can still run one). A failed pass is
 * logged and tried again at the next interval.
 */
export function startReconciler(
  options: ReconcileOptions & {
    db: Db;
    intervalMs: number;
    logger: Logger;
    onPass?: (result: ReconcilePassResult) => void;
  },
) {
  return startPeriodic({
    intervalMs: options.intervalMs,
    logger: options.logger,
    what: 'reconciler pass',
    work: async () => {
      const result = await reconcileOnce(options.db, options);
      options.onPass?.(result);
      if (result.resynced.length || result.unresolved.length || result.stuckDetected.length) {
        const { stuckDetected, resynced, unresolved } = result;
        options.logger.info(
          { stuck: stuckDetected.length, resynced: resynced.length, unresolved: unresolved.length },
          'reconciler pass',
        );
      }
    },
  });
}

/** The reconciler's settings from the config (shared by the timer and POST /v1/admin/reconciler/run). */
export const reconcileOptions = (config: Config): ReconcileOptions => ({
  stuckAfterMs: config.RECONCILE_STUCK_AFTER_MS,
  maxResyncs: config.RECONCILE_MAX_RESYNCS,
  resyncBackoffMs: config.RECONCILE_RESYNC_BACKOFF_MS,
});

export function countReconcilePass(metrics: Metrics, result: ReconcilePassResult): void {
  for (const { kind } of result.resynced) metrics.reconcilerResyncs.inc({ kind });
  for (const { kind } of result.unresolved) metrics.reconcilerUnresolved.inc({ kind });
}
