// What flows through a link, and the bounded queue between two of its stages. The queue works
// like a Go channel with a byte budget: a producer may always add one item, then waits while the
// queue holds `capacityBytes` or more. A slow toxic therefore stops the reading of the socket
// (TCP's own backpressure reaches the sender) instead of growing memory.

/** Bytes read from a socket, with when they were read (performance.now() ms). */
export interface Chunk {
  data: Buffer;
  at: number;
}

/** The source closed its sending side (FIN): pass on a half-close. */
export const END = Symbol('end');
/** A toxic closed the connection: once this reaches the end of the link, both sockets close. */
export const CLOSE = Symbol('close');

export type Item = Chunk | typeof END | typeof CLOSE;

export class Channel {
  readonly #capacityBytes: number;
  #items: Item[] = [];
  #bytes = 0;
  #consumer: (() => void) | undefined;
  #producers: (() => void)[] = [];

  constructor(capacityBytes: number) {
    this.#capacityBytes = capacityBytes;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The producer should wait for `room()` before its next push. */
  get full(): boolean {
    return this.#bytes >= this.#capacityBytes;
  }

  push(item: Item): void {
    this.#items.push(item);
    if (typeof item === 'object') this.#bytes += item.data.length;
    this.wake();
  }

  shift(): Item | undefined {
    const item = this.#items.shift();
    if (item !== undefined && typeof item === 'object') {
      this.#bytes -= item.data.length;
      if (!this.full) this.#release();
    }
    return item;
  }

  /** Resolves once there is room again (or the queue was cleared). */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.#producers.push(resolve));
  }

  /** Resolves on the next push or `wake()`; one consumer waits at a time. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#consumer = resolve;
    });
  }

  /** Lets the waiting consumer look again (something other than an item changed). */
  wake(): void {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    consumer?.();
  }

  /** Drops everything and releases whoever waits. */
  clear(): void {
    this.#items = [];
    this.#bytes = 0;
    this.#release();
    this.wake();
  }

  #release(): void {
    const producers = this.#producers;
    this.#producers = [];
    for (const resolve of producers) resolve();
  }
}
