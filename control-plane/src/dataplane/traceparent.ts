import { type Db, type DbClient, type Queryable, withTransaction } from '../db/pool.ts';
import { currentTraceparent } from '../telemetry/tracing.ts';

/** The transaction-local setting the outbox trigger copies into each event it writes. */
export const traceparentSetting = 'planewright.traceparent';

// version-traceid-parentid-flags; anything else is dropped rather than signed and sent to agents
const traceparentPattern = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Stamps the outbox events written by the rest of this transaction with `traceparent` (default: the
 * active span's), so an agent's work joins the trace of the request or flow that made the change.
 * Transaction-local: call it after BEGIN; outside a transaction it lasts one statement.
 *
 * @example await setOutboxTraceparent(tx); await tx.query('UPDATE resources SET spec = …')
 */
export async function setOutboxTraceparent(
  tx: Queryable,
  traceparent: string | null | undefined = currentTraceparent(),
): Promise<void> {
  const value = traceparent && traceparentPattern.test(traceparent) ? traceparent : '';
  await tx.query('SELECT set_config($1, $2, true)', [traceparentSetting, value]);
}

/** `withTransaction` that first stamps the transaction's outbox events with the active traceparent. */
export async function withOutboxTransaction<T>(db: Db, fn: (tx: DbClient) => Promise<T>): Promise<T> {
  const traceparent = currentTraceparent();
  return withTransaction(db, async (tx) => {
    await setOutboxTraceparent(tx, traceparent);
    return fn(tx);
  });
}
