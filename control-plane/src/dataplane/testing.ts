// Rows for the outbox's tests and benchmark, written by plain SQL as an operator would: the
// triggers must capture them exactly as they capture the API's writes.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/pool.ts';
import type { OutboxEvent } from './verify.ts';

/** Creates the cells (if missing) and a new organization; answers its id. */
export async function seedOrg(db: Queryable, cells: string[] = ['cell-1', 'cell-2']): Promise<string> {
  for (const cell of cells) {
    await db.query('INSERT INTO cells (id, capacity) VALUES ($1, 100000) ON CONFLICT (id) DO NOTHING', [
      cell,
    ]);
  }
  const slug = `org-${randomUUID().slice(0, 8)}`;
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO organizations (name, slug) VALUES ($1, $1) RETURNING id',
    [slug],
  );
  return rows[0]!.id;
}

/** Inserts a database resource in `cell`; answers its id. */
export async function seedResource(
  db: Queryable,
  orgId: string,
  cell: string,
  name = `db-${randomUUID().slice(0, 8)}`,
  spec: Record<string, unknown> = { engine: 'postgres', version: '16', storageGb: 10 },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO resources (org_id, kind, name, spec, cell_id) VALUES ($1, 'database', $2, $3, $4) RETURNING id`,
    [orgId, name, JSON.stringify(spec), cell],
  );
  return rows[0]!.id;
}

/** The raw outbox rows of a cell (or of all cells), in order. */
export async function outboxRows(db: Queryable, cell?: string) {
  const { rows } = await db.query<{
    cell_id: string;
    sequence: number;
    type: OutboxEvent['type'];
    resource_id: string;
    org_id: string;
    generation: number;
    desired: OutboxEvent['desired'];
    traceparent: string | null;
  }>(
    `SELECT cell_id, sequence::int, type, resource_id, org_id, generation::int, desired, traceparent
       FROM outbox_events WHERE $1::text IS NULL OR cell_id = $1 ORDER BY cell_id, sequence`,
    [cell ?? null],
  );
  return rows;
}

/** The latest sequence of each cell. */
export async function cellSequences(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<{ cell_id: string; last_sequence: string }>(
    'SELECT cell_id, last_sequence FROM outbox_cells',
  );
  return Object.fromEntries(rows.map((row) => [row.cell_id, Number(row.last_sequence)]));
}
