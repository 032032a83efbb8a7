import pg from 'pg';
import type { Logger } from 'pino';

/** The channel the outbox trigger notifies, with payload `<cell>:<sequence>`, at commit. */
export const outboxChannel = 'planewright_outbox';

/** `changed`: read the outbox again (a newer event, or the listener reconnected and may have missed
 * one). `timeout`: nothing within the wait. `overloaded`: too many waiters; answer 429. `aborted`. */
export type WaitOutcome = 'changed' | 'timeout' | 'overloaded' | 'aborted';

export interface OutboxListenerOptions {
  /** Its own connection (LISTEN holds a session, so never a pooled one). */
  databaseUrl: string;
  logger?: Logger;
  /** Upper bound of any wait, whatever a caller asks. Default 60 s. */
  maxWaitMs?: number;
  /** Waiters held at once across cells; more are answered `overloaded`. Default 50,000. */
  maxWaiters?: number;
  /** Delay before reconnecting a lost LISTEN connection. Default 1 s. */
  reconnectMs?: number;
}

interface Waiter {
  afterSequence: number;
  settle(outcome: WaitOutcome): void;
}

/**
 * One LISTEN connection per process that wakes long-polls waiting on a cell. It only wakes: the
 * caller reads the table before and after waiting, so a lost notification costs at most one wait.
 *
 * @example const page = await readEvents(...); if (!page.events.length) await listener.waitFor(cell, page.currentSequence, 25_000)
 */
export class OutboxListener {
  private readonly options: Required<Omit<OutboxListenerOptions, 'logger'>> & { logger?: Logger };
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** The highest sequence announced per cell: a wait already overtaken returns at once. */
  private readonly latest = new Map<string, number>();
  private waiterCount = 0;
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: OutboxListenerOptions) {
    this.options = { maxWaitMs: 60_000, maxWaiters: 50_000, reconnectMs: 1_000, ...options };
  }

  get waiting(): number {
    return this.waiterCount;
  }

  /** Connects and listens; rejects if the first connection fails (later losses reconnect). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  /** Closes the connection; every waiter returns `timeout` so its long-poll answers at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.wakeAll('timeout');
    await this.client?.end().catch(() => {});
    this.client = undefined;
  }

  /** Waits until an event after `afterSequence` is announced for `cell`, or up to `timeoutMs`. */
  waitFor(
    cell: string,
    afterSequence: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitOutcome> {
    if ((this.latest.get(cell) ?? -1) > afterSequence) return Promise.resolve('changed');
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.stopped) return Promise.resolve('timeout');
    if (this.waiterCount >= this.options.maxWaiters) return Promise.resolve('overloaded');
    return new Promise((resolve) => {
      const set = this.waiters.get(cell) ?? new Set<Waiter>();
      this.waiters.set(cell, set);
      const waiter: Waiter = {
        afterSequence,
        settle: (outcome) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (set.delete(waiter)) this.waiterCount -= 1;
          if (set.size === 0 && this.waiters.get(cell) === set) this.waiters.delete(cell);
          resolve(outcome);
        },
      };
      const onAbort = () => waiter.settle('aborted');
      const timer = setTimeout(
        () => waiter.settle('timeout'),
        Math.min(Math.max(0, timeoutMs), this.options.maxWaitMs),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
      this.waiterCount += 1;
    });
  }

  private announce(payload: string | undefined): void {
    const colon = payload?.lastIndexOf(':') ?? -1;
    if (!payload || colon <= 0) return;
    const cell = payload.slice(0, colon);
    const sequence = Number(payload.slice(colon + 1));
    if (!Number.isSafeInteger(sequence)) return;
    if (sequence > (this.latest.get(cell) ?? -1)) this.latest.set(cell, sequence);
    for (const waiter of [...(this.waiters.get(cell) ?? [])]) {
      if (sequence > waiter.afterSequence) waiter.settle('changed');
    }
  }

  private wakeAll(outcome: WaitOutcome): void {
    for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.settle(outcome);
  }

  private async connect(): Promise<void> {
    // TCP keep-alive: a half-dead connection is noticed (and replaced) instead of muting every long-poll
    const client = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true });
    client.on('notification', (message) => {
      if (message.channel === outboxChannel) this.announce(message.payload);
    });
    // a lost connection must never crash the process: reconnect, and meanwhile waits run to their timeout
    client.on('error', (error) => this.options.logger?.warn({ err: error }, 'outbox listener lost'));
    client.on('end', () => {
      if (this.client !== client || this.stopped) return;
      this.client = undefined;
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${outboxChannel}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    // stopped while connecting: this connection has no owner left, and would keep the process alive
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.connect()
        .then(() => this.wakeAll('changed'))
        .catch((error) => {
          this.options.logger?.warn({ err: error }, 'outbox listener could not reconnect; retrying');
          if (!this.stopped) this.scheduleReconnect();
        });
    }, this.options.reconnectMs).unref();
  }
}
