// One vocabulary for every delay a simulator makes: a latency fault, a message's delivery time.
import { z } from 'zod';
import type { Random } from './random.ts';

/** Longest latency, hang or window anything may ask for: every wait in a test run needs a bound. */
export const maxWaitMs = 600_000;

const ms = z.number().min(0).max(maxWaitMs);

/** `{ ms }`, `{ uniform: { minMs, maxMs } }` or `{ lognormal: { medianMs, p99Ms, maxMs? } }`. */
export const latencyShape = {
  /** A fixed delay. */
  ms: ms.optional(),
  uniform: z.strictObject({ minMs: ms, maxMs: ms }).optional(),
  /** Heavy-tailed, as real networks are: half the delays under `medianMs`, 1% over `p99Ms`. */
  lognormal: z.strictObject({ medianMs: ms.gt(0), p99Ms: ms.gt(0), maxMs: ms.optional() }).optional(),
};

export type LatencySpec = {
  ms?: number | undefined;
  uniform?: { minMs: number; maxMs: number } | undefined;
  lognormal?: { medianMs: number; p99Ms: number; maxMs?: number | undefined } | undefined;
};

/** What a schema cannot say: exactly one shape, ranges in order. Undefined when the spec is sound. */
export function latencyProblem(spec: LatencySpec): string | undefined {
  const shapes = [spec.ms, spec.uniform, spec.lognormal].filter((each) => each !== undefined);
  if (shapes.length !== 1) return 'give exactly one of ms, uniform or lognormal';
  if (spec.uniform && spec.uniform.minMs > spec.uniform.maxMs) return 'uniform: minMs must not exceed maxMs';
  if (spec.lognormal && spec.lognormal.p99Ms <= spec.lognormal.medianMs)
    return 'lognormal: p99Ms must be greater than medianMs';
  return undefined;
}

/** A latency spec on its own (without a fault's `kind`), validated whole. */
export const latencySchema = z.strictObject(latencyShape).superRefine((spec, ctx) => {
  const problem = latencyProblem(spec);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Draws one delay in ms (0.1 ms precision); `random` is called only when the shape is random. */
export function drawLatencyMs(spec: LatencySpec, random: () => Random): number {
  const value =
    spec.ms ??
    (spec.uniform
      ? random().uniform(spec.uniform.minMs, spec.uniform.maxMs)
      : Math.min(
          random().lognormal(spec.lognormal!.medianMs, spec.lognormal!.p99Ms),
          spec.lognormal!.maxMs ?? maxWaitMs,
        ));
  return Math.round(value * 10) / 10;
}
