// A running simulator: its URL and parts, and a stop that lets answers in flight finish.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimClock } from './clock.ts';
import type { FaultController } from './faults.ts';
import type { Journal } from './journal.ts';
import type { SimulatorContext, SimulatorState } from './simulator.ts';

interface StartedParts<S extends SimulatorState> {
  ctx: SimulatorContext<S>;
  faults: FaultController;
  journal: Journal;
  reset: () => Promise<void>;
  port: number;
  url: string;
  server: Server;
  stopping: AbortController;
  tracked: Set<Promise<unknown>>;
  hanging: Set<Socket>;
  stopTimeoutMs: number;
}

export class StartedSimulator<S extends SimulatorState = SimulatorState> {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly seed: number;
  readonly state: S;
  readonly clock: SimClock;
  readonly faults: FaultController;
  readonly journal: Journal;
  readonly #parts: StartedParts<S>;
  #stopped: Promise<void> | undefined;

  constructor(parts: StartedParts<S>) {
    this.#parts = parts;
    this.url = parts.url;
    this.port = parts.port;
    this.name = parts.ctx.name;
    this.seed = parts.ctx.seed;
    this.state = parts.ctx.state;
    this.clock = parts.ctx.clock;
    this.faults = parts.faults;
    this.journal = parts.journal;
  }

  /** State and fault rules back to their defaults (as POST /_sim/reset). */
  reset(): Promise<void> {
    return this.#parts.reset();
  }

  /**
   * Stops accepting connections, ends hanging requests, lets answers in flight and tracked work
   * finish for up to `stopTimeoutMs`, then closes whatever is left. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(): Promise<void> {
    const { server, stopping, tracked, hanging, stopTimeoutMs, ctx } = this.#parts;
    stopping.abort();
    for (const socket of hanging) socket.destroy();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() only closes the connections idle at that moment; one whose answer finishes later
    // would stay open for its keep-alive timeout, so idle ones are swept until all are gone
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    const deadline = new AbortController();
    const drained = Promise.all([closed, Promise.allSettled([...tracked])]);
    const timedOut = await Promise.race([
      drained.then(() => false),
      sleep(stopTimeoutMs, true, { signal: deadline.signal }).catch(() => false),
    ]);
    deadline.abort();
    clearInterval(sweep);
    if (timedOut) {
      ctx.logger.warn({ stopTimeoutMs }, 'requests still open at stop: closing their connections');
      server.closeAllConnections();
      await closed;
    }
    ctx.logger.info('simulator stopped');
    ctx.logger.flush();
  }
}
