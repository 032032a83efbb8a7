import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { inSpan } from '../telemetry/tracing.ts';
import {
  type FlowContext,
  type FlowDefinition,
  PermanentStepError,
  type StepContext,
  type StepOutcome,
} from './definition.ts';
import { flowChannel, flowDoneChannel, lockSignal } from './start.ts';

export interface FlowEngineOptions {
  db: Db;
  /** A connection string for the LISTEN connection (it must not come from the pool). */
  databaseUrl: string;
  logger: Logger;
  metrics: Metrics;
  definitions: FlowDefinition<never>[];
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  sweepMs: number;
}

interface FlowRow {
  id: string;
  type: string;
  state: string;
  org_id: string | null;
  context: FlowContext;
  step_index: number;
  attempts: number;
  traceparent: string | null;
  /** Fresh per claim: only the claim that ran a step may apply its result. */
  lease_token: string;
  /** Attempts of this step that started and never ended: their worker died. */
  abandoned: number;
}

/**
 * Runs persisted flows. Several engines (in several processes) may share one database: a flow is
 * claimed with `FOR UPDATE SKIP LOCKED` and a lease, renewed while a step runs and taken over by
 * another engine when its holder dies. Work is found through LISTEN/NOTIFY, a timer for the next
 * due flow, and a slow sweep as the safety net.
 */
export class FlowEngine {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly options: FlowEngineOptions;
  private readonly definitions = new Map<string, FlowDefinition<FlowContext>>();
  private readonly running = new Set<Promise<void>>();
  /** Flows this engine is running now: never claimed twice by it, even once their lease looks expired. */
  private readonly runningIds = new Set<string>();
  private inFlightPoll: Promise<void> | undefined;
  private sweeps = 0;
  private listener: pg.Client | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private stopping = false;
  private started = false;
  private readonly completionWaiters = new Map<string, Set<() => void>>();

  constructor(options: FlowEngineOptions) {
    this.options = options;
    for (const definition of options.definitions) {
      this.definitions.set(definition.type, definition as unknown as FlowDefinition<FlowContext>);
    }
  }

  /** The name of step `index` of flow type `type` (undefined past the last step). */
  stepName(type: string, index: number): string | undefined {
    return this.definitions.get(type)?.steps[index]?.name;
  }

  get types(): string[] {
    return [...this.definitions.keys()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { default: pgModule } = await import('pg');
    this.listener = new pgModule.Client({ connectionString: this.options.databaseUrl });
    this.listener.on('notification', (message) => {
      if (message.channel !== flowDoneChannel) return this.wake();
      for (const resolve of this.completionWaiters.get(message.payload ?? '') ?? []) resolve();
    });
    // losing the LISTEN connection only slows hand-offs down to the sweep; never crash for it
    this.listener.on('error', (error) => this.options.logger.warn({ err: error }, 'flow listener lost'));
    await this.listener.connect();
    await this.listener.query(`LISTEN ${flowChannel}; LISTEN ${flowDoneChannel}`);
    this.sweepTimer = setInterval(() => {
      this.wake();
      // a signal is needed only while a step that started before it can still commit its wait
      if (++this.sweeps % 600 === 0) {
        void this.options.db
          .query(`DELETE FROM flow_signals WHERE sent_at < clock_timestamp() - interval '1 day'`)
          .catch(() => {});
      }
    }, this.options.sweepMs);
    this.wake();
  }

  /**
   * Stops claiming work, lets running steps finish (up to `timeoutMs`) and hands their flows back.
   * Steps still running at the deadline lose their lease at once, so another process takes their
   * flows over now rather than when the lease would have run out.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.sweepTimer);
    clearTimeout(this.dueTimer);
    // a poll under way may still be claiming: what it claims must be waited for too
    await this.inFlightPoll?.catch(() => {});
    const drained = Promise.allSettled([...this.running]).then(() => true);
    const finished = await Promise.race([
      drained,
      new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
    if (!finished) {
      await this.options.db
        .query(
          `UPDATE flows SET lease_expires_at = clock_timestamp() WHERE lease_owner = $1 AND state = 'running'`,
          [this.workerId],
        )
        .catch((error) => this.options.logger.warn({ err: error }, 'could not release flow leases'));
    }
    await this.listener?.end().catch(() => {});
  }

  /**
   * Waits until flow `id` is finished (succeeded, failed or cancelled) by any process, or for
   * `timeoutMs`; answers its state and last error, or undefined when it is still going.
   */
  async waitForCompletion(
    id: string,
    timeoutMs: number,
  ): Promise<{ state: string; lastError: string | null } | undefined> {
    const read = async () => {
      const { rows } = await this.options.db.query<{ state: string; last_error: string | null }>(
        'SELECT state, last_error FROM flows WHERE id = $1',
        [id],
      );
      const row = rows[0];
      return row && ['succeeded', 'failed', 'cancelled'].includes(row.state)
        ? { state: row.state, lastError: row.last_error }
        : undefined;
    };
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const waiters = this.completionWaiters.get(id) ?? new Set();
    waiters.add(resolveDone);
    this.completionWaiters.set(id, waiters);
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const result = await read();
        const left = deadline - Date.now();
        if (result || left <= 0) return result;
        // a missed notification costs at most 250 ms
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, Math.min(left, 250)))]);
      }
    } finally {
      waiters.delete(resolveDone);
      if (waiters.size === 0) this.completionWaiters.delete(id);
    }
  }

  /** Looks for due flows now (called on NOTIFY, on timers, and after a flow finishes). */
  wake(): void {
    if (this.stopping || !this.started) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    this.inFlightPoll = this.poll();
    void this.inFlightPoll
      .catch((error) => this.options.logger.error({ err: error }, 'flow poll failed'))
      .finally(() => {
        this.polling = false;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.wake();
        }
      });
  }

  private async poll(): Promise<void> {
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const claimed = await this.claim(free);
    for (const flow of claimed) {
      this.runningIds.add(flow.id);
      const task = this.runFlow(flow)
        .catch((error) => this.options.logger.error({ err: error, flowId: flow.id }, 'flow run failed'))
        .finally(() => {
          this.running.delete(task);
          this.runningIds.delete(flow.id);
          this.wake();
        });
      this.running.add(task);
    }
    if (claimed.length === free) this.pollAgain = true;
    else await this.scheduleNextDue();
  }

  private async claim(limit: number): Promise<FlowRow[]> {
    const types = this.types;
    const { rows } = await this.options.db.query<FlowRow>(
      `WITH due AS (
         SELECT id FROM flows
          WHERE state IN ('pending', 'running', 'waiting') AND type = ANY($4::text[])
            AND next_run_at <= clock_now()
            AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp())
            AND NOT (id = ANY($5::uuid[]))
          ORDER BY next_run_at
          LIMIT $2
          FOR NO KEY UPDATE SKIP LOCKED),
       open_steps AS (
         SELECT s.flow_id, count(*)::int AS n FROM flow_steps s JOIN due ON due.id = s.flow_id
          WHERE s.ended_at IS NULL GROUP BY s.flow_id)
       UPDATE flows f
          SET state = 'running', lease_owner = $1, lease_token = gen_random_uuid(),
              lease_expires_at = clock_timestamp() + make_interval(secs => $3 / 1000.0),
              -- an attempt whose worker died counts, so a step that always kills its process still ends
              attempts = f.attempts + COALESCE(o.n, 0),
              state_changed_at = CASE WHEN f.state <> 'running' THEN now() ELSE f.state_changed_at END,
              updated_at = now()
         FROM due LEFT JOIN open_steps o ON o.flow_id = due.id
        WHERE f.id = due.id
       RETURNING f.id, f.type, f.state, f.org_id, f.context, f.step_index, f.attempts, f.traceparent,
         f.lease_token, COALESCE(o.n, 0) AS abandoned`,
      [this.workerId, limit, this.options.leaseMs, types, [...this.runningIds]],
    );
    return rows;
  }

  /** Sleeps until the earliest future flow is due, so timers and retries fire on time without polling. */
  private async scheduleNextDue(): Promise<void> {
    const { rows } = await this.options.db.query<{ ms: number | null }>(
      `SELECT GREATEST(0, LEAST(
                (SELECT EXTRACT(EPOCH FROM (min(next_run_at) - clock_now())) * 1000
                   FROM flows WHERE state IN ('pending', 'waiting') AND type = ANY($1::text[])),
                -- a flow whose holder died is due when its lease runs out
                (SELECT EXTRACT(EPOCH FROM (min(lease_expires_at) - clock_timestamp())) * 1000
                   FROM flows WHERE state = 'running' AND type = ANY($1::text[]))))::float8 AS ms`,
      [this.types],
    );
    const ms = rows[0]?.ms;
    clearTimeout(this.dueTimer);
    if (ms !== null && ms !== undefined && ms < this.options.sweepMs) {
      this.dueTimer = setTimeout(() => this.wake(), Math.ceil(ms) + 1);
    }
  }

  private async runFlow(flow: FlowRow): Promise<void> {
    const definition = this.definitions.get(flow.type)!;
    if (flow.abandoned > 0) {
      // the previous holder died in the middle of a step (the claim already counted the attempt)
      await this.options.db.query(
        `UPDATE flow_steps SET ended_at = clock_timestamp(), outcome = 'abandoned',
                error = 'the worker running this step stopped (its lease expired)'
          WHERE flow_id = $1 AND ended_at IS NULL`,
        [flow.id],
      );
    }
    let previousEnd: number | undefined;
    while (!this.stopping) {
      const step = definition.steps[flow.step_index];
      if (!step) return;
      const maxAttempts = definition.maxAttempts ?? this.options.maxAttempts;
      if (flow.attempts >= maxAttempts) {
        await this.finish(flow, 'failed', `step ${step.name} did not complete in ${maxAttempts} attempts`);
        return;
      }
      if (previousEnd !== undefined) {
        this.options.metrics.flowHandoff.observe(
          { flow_type: flow.type },
          (performance.now() - previousEnd) / 1000,
        );
      }
      const next = await this.runStep(flow, definition, step.name);
      previousEnd = performance.now();
      if (!next) return;
      flow = next;
    }
    // stopping: hand the flow back so another process continues it at once
    await this.options.db.query(
      `UPDATE flows SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, next_run_at = now(),
              state_changed_at = now(), updated_at = now()
        WHERE id = $1 AND lease_token = $2 AND state = 'running'`,
      [flow.id, flow.lease_token],
    );
  }

  /** Runs one attempt of one step; returns the flow to continue with, or undefined when the flow left this worker. */
  private async runStep(
    flow: FlowRow,
    definition: FlowDefinition<FlowContext>,
    stepName: string,
  ): Promise<FlowRow | undefined> {
    const { db, logger, metrics } = this.options;
    const step = definition.steps[flow.step_index]!;
    const attempt = flow.attempts + 1;
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO flow_steps (flow_id, step, attempt, worker, started_at, snapshot)
       VALUES ($1, $2, $3, $4, clock_timestamp(), pg_current_snapshot()) RETURNING id`,
      [flow.id, stepName, attempt, this.workerId],
    );
    const stepRowId = rows[0]!.id;
    const renew = setInterval(
      () => {
        void db
          .query(
            `UPDATE flows SET lease_expires_at = clock_timestamp() + make_interval(secs => $3 / 1000.0)
            WHERE id = $1 AND lease_token = $2`,
            [flow.id, flow.lease_token, this.options.leaseMs],
          )
          .catch(() => {});
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    const started = performance.now();
    let outcome: StepOutcome<FlowContext>;
    let failure: Error | undefined;
    try {
      outcome = await inSpan(
        `flow ${flow.type} ${stepName}`,
        { 'flow.id': flow.id, 'flow.type': flow.type, 'flow.step': stepName, 'flow.attempt': attempt },
        () => step.run(this.stepContext(flow, stepName, attempt)),
        flow.traceparent,
      );
    } catch (error) {
      failure = error as Error;
    } finally {
      clearInterval(renew);
    }
    const waiting = !failure && outcome! && outcome.wait;
    const label = failure ? 'failed' : waiting ? 'waiting' : 'succeeded';
    metrics.flowStepDuration.observe(
      { flow_type: flow.type, step: stepName, outcome: label },
      (performance.now() - started) / 1000,
    );

    return withTransaction(db, async (tx) => {
      const owned = await tx.query<{ state: string }>(
        'SELECT state FROM flows WHERE id = $1 AND lease_token = $2 FOR NO KEY UPDATE',
        [flow.id, flow.lease_token],
      );
      await tx.query(
        `UPDATE flow_steps SET ended_at = clock_timestamp(), outcome = $2, error = $3 WHERE id = $1`,
        [stepRowId, label, failure ? failure.message.slice(0, 2000) : null],
      );
      // cancelled, or taken over after our lease expired: this result is not ours to apply
      if (owned.rows[0]?.state !== 'running') return undefined;

      if (failure) {
        const permanent = failure instanceof PermanentStepError;
        const attempts = flow.attempts + 1;
        const maxAttempts = definition.maxAttempts ?? this.options.maxAttempts;
        if (permanent || attempts >= maxAttempts) {
          logger.warn({ flowId: flow.id, step: stepName, err: failure }, 'flow failed');
          await this.finishIn(tx, flow, 'failed', `step ${stepName} failed: ${failure.message}`);
          return undefined;
        }
        const delayMs = this.backoffMs(attempts);
        await tx.query(
          `UPDATE flows SET state = 'pending', attempts = $2, last_error = $3, lease_owner = NULL, lease_expires_at = NULL,
                  next_run_at = clock_now() + make_interval(secs => $4 / 1000.0), state_changed_at = now(), updated_at = now()
            WHERE id = $1`,
          [flow.id, attempts, `step ${stepName} failed: ${failure.message}`.slice(0, 2000), delayMs],
        );
        return undefined;
      }

      const context = outcome?.context ? { ...flow.context, ...outcome.context } : flow.context;
      if (waiting) {
        let until = waiting.until ?? null;
        if (waiting.signal) {
          await lockSignal(tx, waiting.signal);
          const sent = await tx.query(
            `SELECT 1 FROM flow_signals s, flow_steps st
              WHERE s.name = $1 AND st.id = $2 AND NOT pg_visible_in_snapshot(s.sent_xid, st.snapshot)`,
            [waiting.signal, stepRowId],
          );
          // the signal's transaction had not committed when the step started: the step's check
          // may have missed what it announced, so run the step again now
          if (sent.rows[0]) until = new Date(0);
        }
        await tx.query(
          `UPDATE flows SET state = 'waiting', context = $2, attempts = 0, wait_for = $3, lease_owner = NULL, lease_expires_at = NULL,
                  next_run_at = COALESCE($4::timestamptz, 'infinity'), last_error = NULL,
                  state_changed_at = CASE WHEN state <> 'waiting' THEN now() ELSE state_changed_at END, updated_at = now()
            WHERE id = $1`,
          [flow.id, JSON.stringify(context), waiting.signal ?? null, until],
        );
        return undefined;
      }
      const nextIndex = flow.step_index + 1;
      const done = nextIndex >= definition.steps.length;
      if (done) {
        await tx.query('UPDATE flows SET context = $2 WHERE id = $1', [flow.id, JSON.stringify(context)]);
        await this.finishIn(tx, flow, 'succeeded', null);
        return undefined;
      }
      await tx.query(
        `UPDATE flows SET context = $2, step_index = $3, current_step = $4, attempts = 0, wait_for = NULL, last_error = NULL,
                lease_expires_at = clock_timestamp() + make_interval(secs => $5 / 1000.0), updated_at = now()
          WHERE id = $1`,
        [
          flow.id,
          JSON.stringify(context),
          nextIndex,
          definition.steps[nextIndex]!.name,
          this.options.leaseMs,
        ],
      );
      return { ...flow, context, step_index: nextIndex, attempts: 0, abandoned: 0 };
    });
  }

  private stepContext(flow: FlowRow, step: string, attempt: number): StepContext<FlowContext> {
    const { db, logger } = this.options;
    const idempotencyKey = (name?: string) => (name ? `${flow.id}:${step}:${name}` : `${flow.id}:${step}`);
    return {
      flowId: flow.id,
      flowType: flow.type,
      orgId: flow.org_id,
      step,
      attempt,
      worker: this.workerId,
      context: flow.context,
      db,
      logger: logger.child({ flowId: flow.id, flowType: flow.type, step, attempt }),
      idempotencyKey,
      async once(name, fn) {
        const key = idempotencyKey(name);
        return withTransaction(db, async (tx) => {
          const saved = await tx.query('SELECT result FROM flow_effects WHERE key = $1', [key]);
          if (saved.rows[0]) return saved.rows[0].result;
          const result = await fn(tx, key);
          // a second runner of this step (a zombie whose lease expired) fails here and rolls back its effect
          await tx.query('INSERT INTO flow_effects (key, flow_id, step, result) VALUES ($1, $2, $3, $4)', [
            key,
            flow.id,
            step,
            JSON.stringify(result ?? null),
          ]);
          return result;
        });
      },
      async now() {
        const { rows } = await db.query<{ now: Date }>('SELECT clock_now() AS now');
        return rows[0]!.now;
      },
    };
  }

  /** Exponential backoff with equal jitter (half fixed, half random), capped. */
  private backoffMs(attempts: number): number {
    const ceiling = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private async finish(flow: FlowRow, state: 'succeeded' | 'failed', error: string | null): Promise<void> {
    await withTransaction(this.options.db, (tx) => this.finishIn(tx, flow, state, error));
  }

  private async finishIn(
    tx: pg.PoolClient,
    flow: FlowRow,
    state: 'succeeded' | 'failed',
    error: string | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE flows SET state = $2, last_error = COALESCE($3, last_error), lease_owner = NULL, lease_expires_at = NULL,
              completed_at = now(), state_changed_at = now(), updated_at = now(), wait_for = NULL
        WHERE id = $1`,
      [flow.id, state, error],
    );
    await tx.query('SELECT pg_notify($1, $2)', [flowDoneChannel, flow.id]);
    this.options.metrics.flowsFinished.inc({ flow_type: flow.type, state });
  }
}
