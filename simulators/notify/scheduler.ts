// Runs delivery steps at times on the simulator clock. Each step has a real timer for the time
// left; when a test moves the clock forward (POST /_sim/clock), what has come due runs at once, in
// due order, and the timers of the rest are set again for their shorter wait. So a test can wait
// for a slow delivery, or skip ahead to it.

interface Pending {
  dueMs: number;
  order: number;
  timer: NodeJS.Timeout;
  run: () => void;
}

export class Scheduler {
  readonly #now: () => number;
  readonly #pending = new Map<number, Pending>();
  #nextOrder = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Runs `step` when the clock reaches `dueMs`. */
  at(dueMs: number, step: () => void): void {
    const order = this.#nextOrder++;
    const run = () => {
      this.#pending.delete(order);
      step();
    };
    this.#pending.set(order, { dueMs, order, run, timer: this.#arm(dueMs, run) });
  }

  /** After the clock moved: runs what is due by `nowMs`, then re-arms the rest. */
  runDue(nowMs: number): void {
    const due = [...this.#pending.values()]
      .filter((pending) => pending.dueMs <= nowMs)
      .sort((a, b) => a.dueMs - b.dueMs || a.order - b.order);
    for (const pending of due) {
      clearTimeout(pending.timer);
      pending.run();
    }
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.timer = this.#arm(pending.dueMs, pending.run);
    }
  }

  /** Drops every pending step (reset, stop); returns how many there were. */
  cancelAll(): number {
    const count = this.#pending.size;
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    return count;
  }

  #arm(dueMs: number, run: () => void): NodeJS.Timeout {
    return setTimeout(run, Math.max(0, dueMs - this.#now()));
  }
}
