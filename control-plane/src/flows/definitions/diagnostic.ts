import { setTimeout as sleep } from 'node:timers/promises';
import { defineFlow, type FlowDefinition, type FlowStep } from '../definition.ts';

export interface DiagnosticContext extends Record<string, unknown> {
  stepDelayMs: number;
  /** False makes every step a no-op (benchmarks of the engine alone). Default: true. */
  effects?: boolean;
  /** When set, each step POSTs here with the step's idempotency key (an external effect). */
  notifyUrl?: string;
}

const effectStep = (name: string): FlowStep<DiagnosticContext> => ({
  name,
  async run({ context, once, idempotencyKey, flowId, step, worker }) {
    if (context.effects === false) return;
    // the delay makes a crash in the middle of a step likely in crash tests
    if (context.stepDelayMs > 0) await sleep(context.stepDelayMs);
    if (context.notifyUrl) {
      const response = await fetch(context.notifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey('notify') },
        body: JSON.stringify({ flowId, step }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`notify answered ${response.status}`);
    }
    await once('record', async (tx, key) => {
      await tx.query(
        `INSERT INTO diagnostic_effects (flow_id, step, idempotency_key, worker)
         VALUES ($1, $2, $3, $4)`,
        [flowId, step, key, worker],
      );
    });
  },
});

/**
 * A flow of three steps that each make one database effect and, optionally, one HTTP effect.
 * Registered only in test mode: crash tests and benchmarks count its effects.
 */
export const diagnosticFlow: FlowDefinition<DiagnosticContext> = defineFlow<DiagnosticContext>({
  type: 'diagnostic',
  steps: [effectStep('effect-1'), effectStep('effect-2'), effectStep('effect-3')],
});
