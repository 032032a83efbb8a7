// The simulator kit: what every vendor simulator (stripe, salesforce, auth, notify) is built on.
//
// The contract of a simulator folder, which `planewright sim <name>` relies on:
//   simulators/<name>/index.ts exports `create<Name>Simulator(options?: SimulatorFactoryOptions)`
//   (`createStripeSimulator`, `createSalesforceSimulator`, `createAuthSimulator`,
//   `createNotifySimulator`), returning a not-yet-started `Simulator` (or a promise of one). The
//   caller may add `.withFaults(…)` and then calls `.start({ port, host })`. The factory passes
//   `options.seed` and `options.logLevel` on to `new Simulator({ … })` unchanged.
//
// @example
//   export function createExampleSimulator(options: SimulatorFactoryOptions = {}) {
//     return new Simulator({ name: 'example', state: new ExampleState(), ...options })
//       .withRoutes((router, ctx) => router.get('/v1/ping', (_req, res) => res.json({ ok: true })));
//   }

// time
export { type ClockAdvance, type ClockOptions, maxAheadMs, SimClock } from './clock.ts';
export { SimulatorError } from './errors.ts';
// fault rules, decisions, the journal and replay
export type { FaultController, FaultRule } from './faults.ts';
export type { Fingerprint } from './fingerprint.ts';
export {
  decisionsByFingerprint,
  decisionsOf,
  type FaultDecision,
  type JournalDocument,
  type JournalEntry,
} from './journal.ts';
// delays: one vocabulary for latency faults and simulated work (deliveries)
export { drawLatencyMs, type LatencySpec, latencySchema, maxWaitMs } from './latency.ts';
export type { LogLevel } from './logging.ts';
export { compilePathPattern } from './match.ts';
// traffic of a simulator's own (webhooks): loopback only unless allowExternalWebhooks
export {
  checkOutboundUrl,
  isLoopbackHost,
  type OutboundOptions,
  type OutboundResult,
  outboundUrlProblem,
  postOutbound,
} from './outbound.ts';
export { type Random, seededRandom } from './random.ts';
export type { ReplayReport } from './replay.ts';
export type { FaultRuleInput, FaultSpec } from './rules.ts';
// ids and test secrets from the seed: same seed, same requests, same ids (and same journal)
export { SeededIds, seededBytes } from './seeded-ids.ts';
// the builder, the started handle and what routes receive
export {
  Simulator,
  type SimulatorContext,
  type SimulatorOptions,
  type SimulatorState,
  type StartOptions,
} from './simulator.ts';
export { StartedSimulator } from './started.ts';
export { type SimulatorTelemetry, startSimulatorTelemetry } from './telemetry.ts';
// tracing helpers usable outside a route
export { inLinkedSpan, type LinkedSpanOptions, traceHeaders } from './tracing.ts';
// the vendor's own error, throttle and outage answers
export { defaultVendorResponses, type VendorResponse, type VendorResponses } from './vendor.ts';

/** What `planewright sim` (and the harness) pass to a simulator's `create<Name>Simulator`. */
export interface SimulatorFactoryOptions {
  /** Seed of the fault decisions; default a random one. */
  seed?: number;
  /** pino level of the simulator's JSON logs on stderr. */
  logLevel?: import('./logging.ts').LogLevel;
}
