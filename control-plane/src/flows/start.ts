import type { DbClient, Queryable } from '../db/pool.ts';
import { currentTraceparent } from '../telemetry/tracing.ts';
import type { FlowContext } from './definition.ts';

export const flowChannel = 'planewright_flows';
/** Carries the id of each flow that finished, for `FlowEngine.waitForCompletion`. */
export const flowDoneChannel = 'planewright_flow_done';

export interface StartFlowInput {
  type: string;
  orgId?: string | null;
  context: FlowContext;
  /** A second start with the same key returns the first flow instead of starting another. */
  dedupeKey?: string;
  /** Default: the traceparent of the active span (the request that starts the flow). */
  traceparent?: string | null;
}

/**
 * Records a new flow. Call it with the transaction that makes the change causing the flow, so
 * both commit or neither does; workers are woken when that transaction commits.
 */
export async function startFlow(
  db: Queryable,
  input: StartFlowInput,
): Promise<{ id: string; created: boolean }> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO flows (type, org_id, context, dedupe_key, traceparent)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [
      input.type,
      input.orgId ?? null,
      JSON.stringify(input.context),
      input.dedupeKey ?? null,
      input.traceparent ?? currentTraceparent() ?? null,
    ],
  );
  if (rows[0]) {
    await db.query(`SELECT pg_notify($1, 'start')`, [flowChannel]);
    return { id: rows[0].id, created: true };
  }
  const existing = await db.query<{ id: string }>('SELECT id FROM flows WHERE dedupe_key = $1', [
    input.dedupeKey,
  ]);
  return { id: existing.rows[0]!.id, created: false };
}

/**
 * Wakes every flow waiting on `signal` (a step that returned `wait: { signal }`), and remembers
 * which transaction sent it, so that a step deciding to wait for it right now does not sleep
 * through it. Call it in the transaction that makes the change the signal announces.
 */
export async function signalFlows(tx: DbClient, signal: string): Promise<number> {
  // serialized with the engine's commit of a wait on the same signal (see lockSignal)
  await lockSignal(tx, signal);
  await tx.query(
    `INSERT INTO flow_signals (name, sent_at, sent_xid) VALUES ($1, clock_timestamp(), pg_current_xact_id())
     ON CONFLICT (name) DO UPDATE SET sent_at = EXCLUDED.sent_at, sent_xid = EXCLUDED.sent_xid`,
    [signal],
  );
  const db = tx;
  const { rowCount } = await db.query(
    `UPDATE flows SET next_run_at = now() - interval '1 millisecond' WHERE state = 'waiting' AND wait_for = $1`,
    [signal],
  );
  if (rowCount) await db.query(`SELECT pg_notify($1, 'signal')`, [flowChannel]);
  return rowCount ?? 0;
}

/**
 * A transaction-scoped lock per signal name. Sending a signal and committing a wait for it take
 * it, so whichever commits second sees the other: no wake-up is lost between a step's check and
 * its wait. Only meaningful inside a transaction.
 */
export async function lockSignal(db: DbClient, signal: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtext('flow-signal:' || $1))`, [signal]);
}
