// One toxic on one stream of one connection (Toxiproxy's ToxicStub): a queue in front, a loop
// that takes items in order and hands chunks to the toxic's behavior, or passes them through
// when the toxicity draw said the toxic does not act on this stream. The draw is made when the
// stage starts and again when the toxic is updated, and each is journaled.
import { type Random, seededRandom } from '../../../simulators/kit/index.ts';
import { createBehavior, type StageContext, type StageState, type ToxicBehavior } from './behaviors.ts';
import { Channel, CLOSE, type Item } from './channel.ts';
import type { FaultProxyDecision } from './journal.ts';
import type { Toxic } from './toxics.ts';

/** What a stage needs from its link and connection. */
export interface StageHost {
  readonly closed: boolean;
  readonly seed: number;
  readonly proxyName: string;
  readonly ordinal: number;
  readonly stageBufferBytes: number;
  /** Passes an item to what follows `stage` in its link. */
  emitAfter(stage: Stage, item: Item): Promise<void> | undefined;
  /** Takes `stage` out of its link (it has passed on everything it held). */
  detach(stage: Stage): void;
  schedule(ms: number, run: () => void): () => void;
  reset(): void;
  /** Something unexpected: close the connection. */
  fail(error: unknown): void;
  record(toxic: Toxic, decision: FaultProxyDecision, draw?: number): void;
}

interface Sleeping {
  timer: NodeJS.Timeout;
  resolve: () => void;
  interruptible: boolean;
}

export class Stage {
  readonly input: Channel;
  readonly #host: StageHost;
  readonly #state: StageState = { transmittedBytes: 0 };
  readonly #context: StageContext;
  #toxic!: Toxic;
  #random!: Random;
  #behavior!: ToxicBehavior;
  #applied = false;
  #removed = false;
  #closing = false;
  #finished = false;
  // set when the toxic changes under a chunk in hand: its remaining waits are skipped
  #hurry = false;
  #sleeping: Sleeping | undefined;

  constructor(host: StageHost, toxic: Toxic) {
    this.#host = host;
    this.input = new Channel(host.stageBufferBytes);
    this.#context = this.#makeContext();
    this.#apply(toxic);
    void this.#run().catch((error: unknown) => host.fail(error));
  }

  get toxicName(): string {
    return this.#toxic.name;
  }

  /** The toxic was updated: draw again and act with the new attributes from now on. */
  update(toxic: Toxic): void {
    if (this.#finished || this.#removed) return;
    this.#interrupt();
    this.#apply(toxic);
  }

  /** The toxic was removed: pass through what is queued, then leave the link. */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    if (this.#finished) {
      this.#host.detach(this);
      return;
    }
    this.#interrupt();
    this.#behavior.stop?.();
    if (this.#applied) this.#behavior.removed?.();
    this.input.wake();
  }

  /** The connection closed: stop now. */
  abort(): void {
    this.#finish();
    this.#interrupt();
    this.input.clear();
  }

  #apply(toxic: Toxic): void {
    this.#behavior?.stop?.();
    this.#toxic = toxic;
    const host = this.#host;
    const key = `fault-proxy\u0000${host.proxyName}\u0000${toxic.name}\u0000${toxic.revision}\u0000${host.ordinal}`;
    this.#random = seededRandom(host.seed, key);
    const draw = this.#random.float();
    this.#applied = draw < toxic.toxicity;
    host.record(toxic, this.#applied ? 'applied' : 'skipped', draw);
    this.#behavior = createBehavior(toxic, this.#context, this.#state);
    if (this.#applied) this.#behavior.start?.();
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#finished || this.#host.closed) return this.#finish();
      if (this.#closing) {
        await this.#emit(CLOSE);
        return this.#finish();
      }
      const item = this.input.shift();
      if (item === undefined) {
        if (this.#removed) {
          this.#finish();
          this.#host.detach(this);
          return;
        }
        await this.input.wait();
        continue;
      }
      this.#hurry = this.#removed;
      const acting = this.#applied && !this.#removed;
      if (typeof item !== 'object') {
        if (acting) await this.#behavior.end?.();
        if (this.#closing || this.#host.closed) continue;
        await this.#emit(item);
        return this.#finish();
      }
      await (acting ? this.#behavior.chunk(item) : this.#emit(item));
    }
  }

  #emit(item: Item): Promise<void> | undefined {
    return this.#host.closed ? undefined : this.#host.emitAfter(this, item);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#behavior.stop?.();
  }

  #sleep(ms: number, interruptible: boolean): Promise<void> | undefined {
    if (!(ms > 0) || this.#host.closed || this.#finished || (interruptible && this.#hurry)) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeping = undefined;
        resolve();
      }, ms);
      this.#sleeping = { timer, resolve, interruptible };
    });
  }

  #interrupt(): void {
    this.#hurry = true;
    const sleeping = this.#sleeping;
    if (!sleeping || (!sleeping.interruptible && !this.#finished)) return;
    clearTimeout(sleeping.timer);
    this.#sleeping = undefined;
    sleeping.resolve();
  }

  #makeContext(): StageContext {
    const host = this.#host;
    const random = () => this.#random;
    return {
      emit: (item) => this.#emit(item),
      sleep: (ms, interruptible = true) => this.#sleep(ms, interruptible),
      schedule: (ms, run) => host.schedule(ms, run),
      close: (decision) => {
        if (this.#closing || this.#finished) return;
        host.record(this.#toxic, decision);
        this.#closing = true;
        this.input.wake();
      },
      reset: () => host.reset(),
      record: (decision) => host.record(this.#toxic, decision),
      // a getter: an update draws from a new generator
      get random() {
        return random();
      },
    };
  }
}
