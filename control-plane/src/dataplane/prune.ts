import type { Logger } from 'pino';
import type { Queryable } from '../db/pool.ts';
import { startPeriodic } from './periodic.ts';

export interface PruneOptions {
  /** Events older than this may go. */
  keepMs: number;
  /** The newest events of each cell stay whatever their age; at least 1, so the latest always stays. */
  keepPerCell: number;
  /** Rows deleted per statement: short statements hold few locks and leave writers alone. */
  batchSize?: number;
}

// Sequences come from outbox_cells, not from the events, so they would continue anyway; the latest
// event is kept so that "nothing after cursor N" and "events after N were pruned" stay
// distinguishable. Only a prefix of each cell's sequence goes, oldest first: what stays is always
// contiguous, so an agent is either served every event after its cursor or told to re-hydrate,
// never handed a sequence with a hole in it (even if created_at went backwards with the clock).
const pruneQuery = `
  WITH cutoffs AS (
    SELECT c.cell_id, LEAST(c.last_sequence - $2, COALESCE(
             (SELECT min(y.sequence) - 1 FROM outbox_events y
               WHERE y.cell_id = c.cell_id AND y.created_at >= clock_timestamp() - $1 * interval '1 millisecond'),
             c.last_sequence)) AS cutoff
      FROM outbox_cells c),
  doomed AS (
    SELECT e.id FROM outbox_events e JOIN cutoffs k ON k.cell_id = e.cell_id
     WHERE e.sequence <= k.cutoff
     ORDER BY e.cell_id, e.sequence
     LIMIT $3)
  DELETE FROM outbox_events WHERE id IN (SELECT id FROM doomed)`;

/**
 * Deletes outbox events older than `keepMs`, except each cell's newest `keepPerCell`. An agent whose
 * cursor is now older than what is kept gets SnapshotRequired from `readEvents`.
 *
 * @example await pruneOutbox(db, { keepMs: 86_400_000, keepPerCell: 100 })
 */
export async function pruneOutbox(db: Queryable, options: PruneOptions): Promise<{ deleted: number }> {
  const keepPerCell = Math.max(1, Math.trunc(options.keepPerCell));
  const batchSize = options.batchSize ?? 5_000;
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query(pruneQuery, [Math.max(0, options.keepMs), keepPerCell, batchSize]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return { deleted };
  }
}

/**
 * Prunes every `intervalMs` until stopped; the control plane runs one per process (concurrent
 * pruners only delete the same rows twice). A failed round is logged and retried next interval.
 */
export function startOutboxPruner(
  options: PruneOptions & { db: Queryable; intervalMs: number; logger: Logger },
) {
  return startPeriodic({
    intervalMs: options.intervalMs,
    logger: options.logger,
    what: 'outbox pruning',
    work: async () => {
      const { deleted } = await pruneOutbox(options.db, options);
      if (deleted) options.logger.debug({ deleted }, 'outbox pruned');
    },
  });
}
