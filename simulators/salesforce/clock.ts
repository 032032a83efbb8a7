/**
 * The time source of the simulated org. The shared simulator kit owns the real clock; this module
 * only names the one method the domain needs, so the core stays independent of the kit.
 */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: tests use it to cross day boundaries and expiry times. */
export type ManualClock = Clock & { advance(ms: number): void; set(ms: number): void };

/** @example const clock = createManualClock(Date.parse('2025-03-01T23:59:00Z')); clock.advance(60_000); */
export function createManualClock(startMs = Date.parse('2025-01-01T00:00:00Z')): ManualClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
    set: (ms) => {
      nowMs = ms;
    },
  };
}

/** Salesforce's dateTime format on the wire: `2025-01-01T00:00:00.000+0000`. */
export function toSalesforceDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
