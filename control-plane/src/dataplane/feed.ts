import type { Queryable } from '../db/pool.ts';
import type { EventSigner } from './signing.ts';
import type { DesiredResource, EventType, OutboxEvent, SignedEvent } from './verify.ts';

/** Events of one cell after a cursor, oldest first. */
export interface EventPage {
  kind: 'events';
  cell: string;
  events: SignedEvent[];
  /** The cell's latest sequence when read: with no events, the cursor to wait from. */
  currentSequence: number;
  /** Names this history of the cell's sequences (see `CellSnapshot.epoch`); every event carries it, signed. */
  epoch: string | null;
}

/** The cursor cannot be served from the outbox: the agent must hydrate from a snapshot. */
export interface SnapshotRequired {
  kind: 'snapshot_required';
  cell: string;
  /** `pruned`: events after the cursor are gone. `ahead`: the cursor is past the cell's latest
   * sequence (the agent followed another history, such as a database since rebuilt). */
  reason: 'pruned' | 'ahead';
  afterSequence: number;
  oldestSequence: number | null;
  currentSequence: number;
  message: string;
}

/** A cell's whole desired state at one sequence: applying events after `sequence` keeps it current. */
export interface CellSnapshot {
  cell: string;
  sequence: number;
  /** Random per counter: a cell's sequences restarting in another database get another epoch. */
  epoch: string | null;
  /** Changes exactly when the cell's sequence (or epoch) moves; quoted, for an HTTP ETag header. */
  etag: string;
  resources: Array<{ resourceId: string; desired: DesiredResource }>;
}

export const maxEventsPerRead = 1000;

interface EventRow {
  last_sequence: number | null;
  epoch: string | null;
  oldest: number | null;
  sequence: number | null;
  type: EventType;
  org_id: string;
  resource_id: string;
  generation: number;
  desired: DesiredResource | null;
  traceparent: string | null;
  created_at: Date;
}

// one statement, so one MVCC snapshot: the page, the latest sequence and the oldest retained agree.
// Writers of a cell commit in sequence order (the counter's row lock), so no later event is visible
// while an earlier one is not.
const eventsQuery = `
  SELECT c.last_sequence, c.epoch,
         (SELECT min(sequence) FROM outbox_events WHERE cell_id = $1) AS oldest,
         e.sequence, e.type, e.org_id, e.resource_id, e.generation, e.desired, e.traceparent, e.created_at
    FROM (SELECT 1) AS one
    LEFT JOIN outbox_cells c ON c.cell_id = $1
    LEFT JOIN LATERAL (SELECT * FROM outbox_events WHERE cell_id = $1 AND sequence > $2
                        ORDER BY sequence LIMIT $3) e ON true
   ORDER BY e.sequence`;

/**
 * Signed events of `cell` after `afterSequence` (at most `limit`, capped at 1000), or
 * SnapshotRequired when the cursor predates the oldest retained event or is past the latest.
 *
 * @example const page = await readEvents(db, signer, { cell: 'cell-1', afterSequence: 0, limit: 100 })
 */
export async function readEvents(
  db: Queryable,
  signer: EventSigner,
  query: { cell: string; afterSequence: number; limit?: number },
): Promise<EventPage | SnapshotRequired> {
  const { cell, afterSequence } = query;
  if (!Number.isSafeInteger(afterSequence) || afterSequence < 0) {
    throw new RangeError(`PW_BAD_CURSOR: afterSequence must be an integer ≥ 0, not ${afterSequence}`);
  }
  const asked = Number.isFinite(query.limit) ? Math.trunc(query.limit!) : 100;
  const limit = Math.min(Math.max(asked, 1), maxEventsPerRead);
  const { rows } = await db.query<EventRow>(eventsQuery, [cell, afterSequence, limit]);
  const head = rows[0]!;
  const currentSequence = Number(head.last_sequence ?? 0);
  // every event but the latest may be pruned; with none left at all, none before the next is known
  const oldest = head.oldest === null ? null : Number(head.oldest);
  const firstKnown = oldest ?? currentSequence + 1;
  const required = (reason: SnapshotRequired['reason'], message: string): SnapshotRequired => ({
    kind: 'snapshot_required',
    cell,
    reason,
    afterSequence,
    oldestSequence: oldest,
    currentSequence,
    message,
  });
  if (afterSequence > currentSequence) {
    return required(
      'ahead',
      `cursor ${afterSequence} is past cell ${cell}'s latest sequence ${currentSequence}`,
    );
  }
  if (afterSequence < firstKnown - 1) {
    return required('pruned', `events after ${afterSequence} were pruned; the oldest kept is ${oldest}`);
  }
  const found = rows.filter((row) => row.sequence !== null);
  // sequences are gapless when written and pruned only as a prefix; a hole can only mean a pruning
  // round is under way right here, and the agent must not skip what it removed
  if (found.some((row, index) => Number(row.sequence) !== afterSequence + 1 + index)) {
    return required('pruned', `events after ${afterSequence} are being pruned; re-hydrate from a snapshot`);
  }
  // every event is signed with its cell's epoch; a cell without a counter row has none to sign with
  const epoch = head.epoch;
  const events = epoch === null ? [] : found.map((row) => signer.signEvent(toEvent(cell, epoch, row)));
  return { kind: 'events', cell, events, currentSequence, epoch: head.epoch };
}

const toEvent = (cell: string, epoch: string, row: EventRow): OutboxEvent => ({
  cell,
  epoch,
  sequence: Number(row.sequence),
  type: row.type,
  resourceId: row.resource_id,
  orgId: row.org_id,
  generation: Number(row.generation),
  desired: row.desired,
  traceparent: row.traceparent,
  emittedAt: row.created_at.toISOString(),
});

// the live-resource test is outbox_resource_is_live(r), spelled out so the partial index on cell_id
// applies; in one statement with the counter, so resources and sequence are of the same instant
const snapshotQuery = `
  SELECT c.last_sequence, c.epoch,
         COALESCE((SELECT jsonb_agg(jsonb_build_object('resourceId', r.id, 'desired', outbox_desired_state(r))
                                    ORDER BY r.id)
                     FROM resources r
                    WHERE r.cell_id = $1 AND r.deleted_at IS NULL AND r.phase <> 'deleted'), '[]') AS resources
    FROM (SELECT 1) AS one LEFT JOIN outbox_cells c ON c.cell_id = $1`;

/** Every live resource of `cell` as desired now, with the sequence it reflects and an ETag. */
export async function readSnapshot(db: Queryable, cell: string): Promise<CellSnapshot> {
  const { rows } = await db.query<{
    last_sequence: number | null;
    epoch: string | null;
    resources: CellSnapshot['resources'];
  }>(snapshotQuery, [cell]);
  const row = rows[0]!;
  const sequence = Number(row.last_sequence ?? 0);
  return {
    cell,
    sequence,
    epoch: row.epoch,
    etag: snapshotEtag(row.epoch, sequence),
    resources: row.resources,
  };
}

/** `"<epoch>.<sequence>"`: cheap to compare with If-None-Match without reading any resource. */
export const snapshotEtag = (epoch: string | null, sequence: number) => `"${epoch ?? 'none'}.${sequence}"`;

/** The cell's latest sequence and snapshot ETag alone: enough to answer If-None-Match with a 304. */
export async function readCellHead(
  db: Queryable,
  cell: string,
): Promise<{ cell: string; sequence: number; epoch: string | null; etag: string }> {
  const { rows } = await db.query<{ last_sequence: number; epoch: string }>(
    'SELECT last_sequence, epoch FROM outbox_cells WHERE cell_id = $1',
    [cell],
  );
  const sequence = Number(rows[0]?.last_sequence ?? 0);
  const epoch = rows[0]?.epoch ?? null;
  return { cell, sequence, epoch, etag: snapshotEtag(epoch, sequence) };
}
