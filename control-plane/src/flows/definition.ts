import type { Logger } from 'pino';
import type { Db, DbClient } from '../db/pool.ts';

export type FlowState = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export const flowStates: readonly FlowState[] = [
  'pending',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
];
export type FlowContext = Record<string, unknown>;

export interface StepContext<C extends FlowContext> {
  flowId: string;
  flowType: string;
  orgId: string | null;
  step: string;
  /** 1 for the first try of this step; retries and crash recoveries count up. */
  attempt: number;
  /** The engine running this attempt (host:pid:id). */
  worker: string;
  context: Readonly<C>;
  db: Db;
  logger: Logger;
  /** The same key on every retry and after a crash: pass it to every external side effect. */
  idempotencyKey(name?: string): string;
  /** Runs a database side effect exactly once: `fn`'s writes and the record that it ran commit together. */
  once<T>(name: string, fn: (tx: DbClient, key: string) => Promise<T>): Promise<T>;
  /** The control plane's clock (moved forward by tests in test mode). */
  now(): Promise<Date>;
}

/** What a step asks for next. Returning nothing moves on to the next step. */
export type StepOutcome<C extends FlowContext> = void | {
  /** Merged into the flow's persisted context. */
  context?: Partial<C>;
  /**
   * Run this same step again later: at `until`, or as soon as `signal` is sent, whichever comes
   * first. The step re-checks its condition and may wait again.
   */
  wait?: { until?: Date; signal?: string };
};

export interface FlowStep<C extends FlowContext> {
  name: string;
  run(ctx: StepContext<C>): Promise<StepOutcome<C>>;
}

export interface FlowDefinition<C extends FlowContext = FlowContext> {
  type: string;
  steps: FlowStep<C>[];
  /** Attempts per step before the flow parks in `failed`. Default: FLOW_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

/** A failure that retrying cannot fix: the flow fails at once with this reason. */
export class PermanentStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStepError';
  }
}

export function defineFlow<C extends FlowContext>(definition: FlowDefinition<C>): FlowDefinition<C> {
  const names = new Set(definition.steps.map((step) => step.name));
  if (names.size !== definition.steps.length)
    throw new Error(`flow ${definition.type} has two steps with one name`);
  return definition;
}
