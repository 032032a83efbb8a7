// Delivery latency: how long a message takes from acceptance to delivery, per channel and per
// delivery rule. The shapes are the kit's latency vocabulary (`ms`, `uniform`, `lognormal`), so
// one language describes every delay in a simulator. Draws are seeded per message: the same seed
// and the same messages give the same delays, whatever order concurrent sends arrived in.
import { drawLatencyMs as draw, type LatencySpec, seededRandom } from '../kit/index.ts';

export { type LatencySpec, latencySchema, maxWaitMs as maxLatencyMs } from '../kit/index.ts';

/**
 * Draws a delay for one message: `key` names it (its channel, recipient and sequence number) so
 * its draw depends only on the seed and itself.
 * @example drawLatencyMs({ lognormal: { medianMs: 20, p99Ms: 200 } }, 42, 'email:a@x.test:1')
 */
export function drawLatencyMs(spec: LatencySpec, seed: number, key: string): number {
  return draw(spec, () => seededRandom(seed, `notify\u0000${key}`));
}
