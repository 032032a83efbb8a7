import { randomBytes } from 'node:crypto';
import { recordAudit } from '../audit.ts';
import { type Db, type DbClient, type Queryable, withTransaction } from '../db/pool.ts';
import { signalFlows } from '../flows/start.ts';

/** An error the data plane reports for a resource. */
export interface ObservedError {
  /** `internal`: our fault, retried by the agent, shown to the customer as a generic message with a
   * support id. `customer`: caused by the customer's input, shown exactly, with the hint. */
  class: 'internal' | 'customer';
  message: string;
  hint?: string;
}

/** The error as stored in `resources.last_error`. */
export interface StoredResourceError extends ObservedError {
  /** Quoted by the customer to support, who find the full report by it. */
  supportId: string;
  /** The generation the data plane failed to apply. */
  generation: number;
  at: string;
}

export interface ObservedStatusReport {
  resourceId: string;
  /** The generation the agent acted on (applied it, or failed to: then `error` says why). */
  observedGeneration: number;
  status: Record<string, unknown>;
  error?: ObservedError;
  /** The resource no longer exists on the data plane. */
  deleted?: boolean;
  /** The spec the data plane actually runs; differing from the desired one at the same generation is drift. */
  observedSpec?: Record<string, unknown>;
}

/**
 * The reconciler's finding on a resource (`resources.reconcile`): `drift` (the data plane runs
 * another spec at the desired generation) or `stuck` (the desired generation is not observed in
 * time), with what it did: re-sent it `resyncs` times, and `unresolved` once it gave up re-sending.
 */
export interface ReconcileFinding {
  kind: 'drift' | 'stuck';
  state: 'converging' | 'unresolved';
  detectedAt: string;
  resyncs: number;
  lastResyncAt?: string;
}

/** `applied`, or why the report was ignored (unknown or finalized resource, stale, from the future). */
export type StatusReportOutcome = 'applied' | 'not_found' | 'stale' | 'future_generation';

/** The signal a resource's flows wait on; sent whenever its observed state or desired phase moves. */
export const resourceSignal = (resourceId: string) => `resource:${resourceId}`;
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * Records what the data plane observed for one resource and wakes the flows waiting for it, in one
 * transaction. A report older than one already recorded is ignored, so reordered reports cannot
 * move a resource backwards. A report without `error` clears the last error.
 *
 * @example await recordObservedStatus(db, { resourceId, observedGeneration: 2, status: { ready: true } })
 */
export async function recordObservedStatus(
  db: Db,
  report: ObservedStatusReport,
  /** Only a resource of this cell is updated (an agent's report); another answers `not_found`. */
  scope: { cell?: string } = {},
): Promise<StatusReportOutcome> {
  // Every agent of a cell reports the same resource: after the first, the others usually change
  // nothing. Such a report is answered from one unlocked read, so a cell's reports do not queue on
  // the row's lock (bench/fleet-delivery.ts). Anything that would change the row takes the lock.
  if (!report.error && !report.deleted) {
    const { rows: seen } = await db.query<{ unchanged: boolean }>(
      `SELECT (observed_generation = $3 AND generation = $3 AND status = $4::jsonb AND last_error IS NULL
               AND ($5::jsonb IS NULL OR observed_spec = $5::jsonb)
               -- already reported after its latest event: a report after a re-send still counts
               AND updated_at >= COALESCE((SELECT max(e.created_at) FROM outbox_events e
                                            WHERE e.resource_id = resources.id), '-infinity')) AS unchanged
         FROM resources WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR cell_id = $2)`,
      [
        report.resourceId,
        scope.cell ?? null,
        report.observedGeneration,
        JSON.stringify(report.status),
        report.observedSpec ? JSON.stringify(report.observedSpec) : null,
      ],
    );
    if (seen[0]?.unchanged) return 'applied';
  }
  return withTransaction(db, async (tx) => {
    // jsonb equality is semantic: key order and spacing in the agent's JSON do not matter
    const { rows } = await tx.query<{
      org_id: string;
      generation: number;
      observed_generation: number;
      reconcile: ReconcileFinding | null;
      spec_matches: boolean | null;
    }>(
      `SELECT org_id, generation, observed_generation, reconcile, spec = $3::jsonb AS spec_matches FROM resources
        WHERE id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR cell_id = $2) FOR UPDATE`,
      [
        report.resourceId,
        scope.cell ?? null,
        report.observedSpec ? JSON.stringify(report.observedSpec) : null,
      ],
    );
    const row = rows[0];
    if (!row) return 'not_found';
    const generation = Number(row.generation);
    if (report.observedGeneration > generation) return 'future_generation';
    if (report.observedGeneration < Number(row.observed_generation)) return 'stale';
    const lastError: StoredResourceError | null = report.error
      ? {
          class: report.error.class,
          message: clip(report.error.message, 2000),
          ...(report.error.hint ? { hint: clip(report.error.hint, 2000) } : {}),
          supportId: `sup_${randomBytes(8).toString('hex')}`,
          generation: report.observedGeneration,
          at: new Date().toISOString(),
        }
      : null;
    const status = report.deleted ? { ...report.status, deleted: true } : report.status;
    const finding = reconcileAfterReport(row.reconcile, {
      reached: report.observedGeneration === generation,
      running: !report.error && !report.deleted,
      specMatches: row.spec_matches,
    });
    await tx.query(
      `UPDATE resources SET observed_generation = $2, status = $3, last_error = $4,
              observed_spec = COALESCE($5::jsonb, observed_spec), reconcile = $6, updated_at = now()
        WHERE id = $1`,
      [
        report.resourceId,
        report.observedGeneration,
        JSON.stringify(status),
        lastError && JSON.stringify(lastError),
        report.observedSpec ? JSON.stringify(report.observedSpec) : null,
        finding.next && JSON.stringify(finding.next),
      ],
    );
    if (finding.audit) {
      await recordAudit(tx, undefined, {
        orgId: row.org_id,
        action: finding.audit,
        targetType: 'resource',
        targetId: report.resourceId,
        data: { generation, resyncs: finding.next?.resyncs ?? row.reconcile?.resyncs ?? 0 },
      });
    }
    await signalFlows(tx, resourceSignal(report.resourceId));
    return 'applied';
  });
}

/**
 * What a status report does to the reconciler's finding: a report of the desired generation with
 * another spec is drift (detected here, re-sent by the reconciler); one with the desired spec ends
 * drift, and one that reaches the desired generation ends `stuck`.
 */
function reconcileAfterReport(
  finding: ReconcileFinding | null,
  report: { reached: boolean; running: boolean; specMatches: boolean | null },
): { next: ReconcileFinding | null; audit?: 'resource.drift_detected' | 'resource.drift_converged' } {
  if (!report.reached) return { next: finding };
  // the agent acted on the desired generation, if only to fail: not stuck; drift is judged on a
  // resource it runs
  if (!report.running) return { next: finding?.kind === 'drift' ? finding : null };
  if (report.specMatches === false) {
    if (finding?.kind === 'drift') return { next: finding };
    const detectedAt = new Date().toISOString();
    return {
      next: { kind: 'drift', state: 'converging', detectedAt, resyncs: 0 },
      audit: 'resource.drift_detected',
    };
  }
  if (finding?.kind === 'drift') {
    // a report without observedSpec says nothing about drift
    return report.specMatches === true
      ? { next: null, audit: 'resource.drift_converged' }
      : { next: finding };
  }
  return { next: null };
}

/** Wakes the flows waiting on a resource (its provisioning after a newer change or a deletion). */
export async function signalResourceFlows(tx: DbClient, resourceId: string): Promise<void> {
  await signalFlows(tx, resourceSignal(resourceId));
}

/** The desired and observed state of one resource, as the provisioning flows read it. */
export interface ResourceProgress {
  id: string;
  orgId: string;
  name: string;
  cellId: string | null;
  generation: number;
  phase: string;
  status: Record<string, unknown>;
  observedGeneration: number;
  lastError: StoredResourceError | null;
  deleted: boolean;
}

export async function readResourceProgress(
  db: Queryable,
  resourceId: string,
): Promise<ResourceProgress | undefined> {
  const { rows } = await db.query<{
    id: string;
    org_id: string;
    name: string;
    cell_id: string | null;
    generation: number;
    phase: string;
    status: Record<string, unknown>;
    observed_generation: number;
    last_error: StoredResourceError | null;
    deleted_at: Date | null;
  }>(
    `SELECT id, org_id, name, cell_id, generation, phase, status, observed_generation, last_error, deleted_at
       FROM resources WHERE id = $1`,
    [resourceId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    cellId: row.cell_id,
    generation: row.generation,
    phase: row.phase,
    status: row.status,
    observedGeneration: row.observed_generation,
    lastError: row.last_error,
    deleted: row.deleted_at !== null,
  };
}
