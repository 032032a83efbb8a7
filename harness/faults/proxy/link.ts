// One direction of a connection (Toxiproxy's ToxicLink): bytes read from `source` pass through
// a stage per toxic of that stream, in the order the toxics were added, and are written to
// `dest`. With no toxic, a chunk goes straight from one socket to the other, with the same
// backpressure as `pipe()`. A half-close (FIN) is passed on as one.
import type { Socket } from 'node:net';
import { CLOSE, END, type Item } from './channel.ts';
import { Stage, type StageHost } from './stage.ts';
import type { Stream, Toxic } from './toxics.ts';

/** What a link needs from its connection. */
export type LinkHost = Omit<StageHost, 'emitAfter' | 'detach'> & {
  /** A toxic closed the connection and the close reached the end of this link. */
  close(): void;
};

export class Link {
  readonly direction: Stream;
  readonly #host: LinkHost;
  readonly #source: Socket;
  readonly #dest: Socket;
  readonly #stages: Stage[] = [];
  readonly #stageHost: StageHost;
  #drained: PromiseWithResolvers<void> | undefined;
  // the end or close has been written: nothing more will pass
  #done = false;

  constructor(host: LinkHost, direction: Stream, source: Socket, dest: Socket, toxics: readonly Toxic[]) {
    this.#host = host;
    this.direction = direction;
    this.#source = source;
    this.#dest = dest;
    // assign, not spread: a spread would read `closed` once
    this.#stageHost = Object.assign(stageHostOf(host), {
      emitAfter: (stage: Stage, item: Item) => this.#deliver(this.#stages.indexOf(stage) + 1, item),
      detach: (stage: Stage) => {
        const index = this.#stages.indexOf(stage);
        if (index !== -1) this.#stages.splice(index, 1);
      },
    });
    for (const toxic of toxics) this.addToxic(toxic);
    source.on('data', this.#onData);
    source.once('end', () => this.#deliver(0, END));
    dest.on('drain', () => this.#release());
  }

  addToxic(toxic: Toxic): void {
    if (this.#done || toxic.direction !== this.direction) return;
    this.#stages.push(new Stage(this.#stageHost, toxic));
  }

  updateToxic(toxic: Toxic): void {
    this.#stages.find((stage) => stage.toxicName === toxic.name)?.update(toxic);
  }

  removeToxic(name: string): void {
    this.#stages.find((stage) => stage.toxicName === name)?.remove();
  }

  /** The connection closed: stop every stage and release whoever waits to write. */
  abort(): void {
    this.#done = true;
    this.#source.off('data', this.#onData);
    for (const stage of this.#stages) stage.abort();
    this.#release();
  }

  #onData = (data: Buffer): void => {
    const wait = this.#deliver(0, { data, at: performance.now() });
    if (!wait) return;
    this.#source.pause();
    void wait.then(() => {
      if (!this.#host.closed) this.#source.resume();
    });
  };

  #deliver(index: number, item: Item): Promise<void> | undefined {
    if (this.#host.closed || this.#done) return undefined;
    const stage = this.#stages[index];
    if (stage) {
      stage.input.push(item);
      return stage.input.full ? stage.input.room() : undefined;
    }
    if (item === END) {
      this.#done = true;
      this.#dest.end();
      return undefined;
    }
    if (item === CLOSE) {
      this.#done = true;
      this.#host.close();
      return undefined;
    }
    if (this.#dest.write(item.data)) return undefined;
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  #release(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.resolve();
  }
}

// the host's members a stage uses, `closed` read live
function stageHostOf(host: LinkHost): Omit<StageHost, 'emitAfter' | 'detach'> {
  return {
    get closed() {
      return host.closed;
    },
    seed: host.seed,
    proxyName: host.proxyName,
    ordinal: host.ordinal,
    stageBufferBytes: host.stageBufferBytes,
    schedule: (ms, run) => host.schedule(ms, run),
    reset: () => host.reset(),
    fail: (error) => host.fail(error),
    record: (toxic, decision, draw) => host.record(toxic, decision, draw),
  };
}
