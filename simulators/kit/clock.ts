// The simulator's clock. Fault windows read it; simulators with time (Stripe test clocks, token
// expiry, delivery delays) read it instead of Date.now(), so a test can move time forward and the
// simulator runs, through its `onAdvance` hook, what that time would have run.
import { SimulatorError } from './errors.ts';

export interface ClockOptions {
  /** Where the clock starts (a Date, epoch ms or an ISO string); default: now. */
  start?: Date | number | string;
  /**
   * true: the clock moves only when advanced, so times in a test are exact. Default false: it
   * runs with real time, plus whatever it was advanced by.
   */
  frozen?: boolean;
  /** Runs what happens between `from` and `to` (renewals, expiries); awaited before the advance answers. */
  onAdvance?: (from: Date, to: Date) => void | Promise<void>;
}

/** The furthest ahead of the simulator clock any time or duration may reach: 100 years. */
export const maxAheadMs = 100 * 365.25 * 24 * 60 * 60 * 1000;

/** The largest epoch ms a JavaScript Date holds (±8.64e15, about 275,000 years from 1970). */
const dateRangeMs = 8.64e15;

export interface ClockAdvance {
  from: Date;
  to: Date;
}

export class SimClock {
  /** True when the simulator declared a clock, so `/_sim/clock` is served. */
  readonly declared: boolean;
  readonly frozen: boolean;
  readonly #onAdvance: ClockOptions['onAdvance'];
  #baseMs: number;
  #offsetMs = 0;
  // advances run one at a time: a hook sees the clock only at the edges of its own interval
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ClockOptions | undefined) {
    this.declared = options !== undefined;
    this.frozen = options?.frozen ?? false;
    this.#onAdvance = options?.onAdvance;
    const start = options?.start === undefined ? Date.now() : parseTime(options.start, 'clock.start');
    // a running clock keeps its distance from real time; a frozen one is its own base
    this.#baseMs = this.frozen ? start : start - Date.now();
  }

  /** Now on this clock, in epoch milliseconds. */
  now(): number {
    return (this.frozen ? this.#baseMs : Date.now() + this.#baseMs) + this.#offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  /** Moves the clock forward by `ms` and runs the simulator's hook over the interval. */
  advance(ms: number): Promise<ClockAdvance> {
    if (!Number.isFinite(ms) || ms < 0) {
      return Promise.reject(
        new SimulatorError(
          'PW_SIM_CLOCK_BACKWARDS',
          `cannot advance the clock by ${ms} ms`,
          'give 0 or more',
        ),
      );
    }
    try {
      checkDurationMs(ms, 'advanceMs');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(() => checkTimeMs(this.now() + ms, 'the clock advanced by advanceMs'));
  }

  /** Moves the clock forward to `time`; the clock never goes back. */
  setTo(time: Date | number | string): Promise<ClockAdvance> {
    let targetMs: number;
    try {
      targetMs = parseTime(time, 'setTo');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(() => {
      const now = this.now();
      checkTimeMs(targetMs, 'setTo', now);
      if (targetMs < now) {
        throw new SimulatorError(
          'PW_SIM_CLOCK_BACKWARDS',
          `cannot set the clock back to ${new Date(targetMs).toISOString()}: it is already ${new Date(now).toISOString()}`,
          'the simulator clock only moves forward; POST /_sim/reset does not move it either',
        );
      }
      return targetMs;
    });
  }

  #enqueue(target: () => number): Promise<ClockAdvance> {
    const run = this.#queue.then(async () => {
      const fromMs = this.now();
      const toMs = target();
      this.#offsetMs += toMs - fromMs;
      const advance = { from: new Date(fromMs), to: new Date(toMs) };
      await this.#onAdvance?.(advance.from, advance.to);
      return advance;
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** Epoch ms from a Date, epoch ms or an ISO 8601 string; a clear error otherwise. */
export function parseTime(value: Date | number | string, what: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new SimulatorError(
      'PW_SIM_BAD_TIME',
      `${what} is not a time: ${JSON.stringify(value)}`,
      'give epoch milliseconds or an ISO 8601 string such as 2030-01-01T00:00:00Z',
    );
  }
  return checkTimeMs(ms, what);
}

/**
 * `ms` as a time, when it is one a Date can show and (given `nowMs`) at most {@link maxAheadMs}
 * ahead of it; PW_SIM_BAD_TIME otherwise. A time past either bound would make every later
 * `toISOString()` throw, so it is refused where it comes in.
 */
export function checkTimeMs(ms: number, what: string, nowMs?: number): number {
  if (!Number.isFinite(ms) || Math.abs(ms) > dateRangeMs) {
    throw badTime(`${what} is outside the range of a date: ${ms}`);
  }
  if (nowMs !== undefined && ms - nowMs > maxAheadMs) {
    throw badTime(
      `${what} is ${new Date(ms).toISOString()}, more than 100 years after the simulator clock (${new Date(nowMs).toISOString()})`,
    );
  }
  return ms;
}

/** `ms` as a duration of 0 to {@link maxAheadMs} (100 years); PW_SIM_BAD_TIME otherwise. */
export function checkDurationMs(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > maxAheadMs) {
    throw badTime(`${what} must be from 0 to ${maxAheadMs} ms (100 years), not ${ms}`);
  }
  return ms;
}

function badTime(message: string): SimulatorError {
  return new SimulatorError(
    'PW_SIM_BAD_TIME',
    message,
    'times must be valid dates at most 100 years ahead of the simulator clock',
  );
}
