// What each toxic does to the chunks of one stream, following Toxiproxy's toxics (toxics/*.go).
// A behavior sees one chunk at a time, in order, and passes on what it lets through with `emit`;
// the stage around it (stage.ts) decides whether it applies at all (toxicity), queues chunks,
// and passes ends and closes on.
import type { Random } from '../../../simulators/kit/index.ts';
import type { Chunk, Item } from './channel.ts';
import type { FaultProxyDecision } from './journal.ts';
import type { Toxic, ToxicAttributes } from './toxics.ts';

/** What a behavior may do; given by its stage. */
export interface StageContext {
  /** Passes an item on; resolves once more may follow (undefined: at once). */
  emit(item: Item): Promise<void> | undefined;
  /**
   * Waits `ms`. Returns early when the connection closes and, when `interruptible` (the default),
   * when the toxic is updated or removed: Toxiproxy then lets the chunk in hand through at once.
   */
  sleep(ms: number, interruptible?: boolean): Promise<void> | undefined;
  /** Calls `run` after `ms` unless cancelled; the connection clears it when it closes. */
  schedule(ms: number, run: () => void): () => void;
  /** Closes the connection once what was emitted has passed the rest of the link. */
  close(decision: FaultProxyDecision): void;
  /** Resets both sides (RST) now. */
  reset(): void;
  record(decision: FaultProxyDecision): void;
  /** Seeded by the run's seed, the proxy, the toxic and its revision, and the connection. */
  readonly random: Random;
}

/** Per stage, kept across updates of the toxic (Toxiproxy's stateful toxics). */
export interface StageState {
  transmittedBytes: number;
}

export interface ToxicBehavior {
  /** The toxic starts to act (on a new connection, or after it was added or updated). */
  start?(): void;
  chunk(chunk: Chunk): Promise<void> | undefined;
  /** The stream ended or a toxic before this one closed it: runs before that is passed on. */
  end?(): Promise<void> | undefined;
  /** The toxic stops acting (updated, removed, connection closed): cancel timers. */
  stop?(): void;
  /** The toxic was removed while it acted on this stream. */
  removed?(): void;
}

export function createBehavior(toxic: Toxic, ctx: StageContext, state: StageState): ToxicBehavior {
  switch (toxic.type) {
    case 'latency':
      return latency(toxic.attributes, ctx);
    case 'bandwidth':
      return bandwidth(toxic.attributes, ctx);
    case 'slow_close':
      return slowClose(toxic.attributes, ctx);
    case 'timeout':
      return timeout(toxic.attributes, ctx);
    case 'reset_peer':
      return resetPeer(toxic.attributes, ctx);
    case 'slicer':
      return slicer(toxic.attributes, ctx);
    case 'limit_data':
      return limitData(toxic.attributes, ctx, state);
  }
}

function latency({ latency, jitter }: ToxicAttributes['latency'], ctx: StageContext): ToxicBehavior {
  return {
    async chunk(chunk) {
      // Toxiproxy's jitter: uniform in [-jitter, jitter)
      const delayMs = latency + (jitter > 0 ? Math.floor(ctx.random.float() * 2 * jitter) - jitter : 0);
      // counted from when the chunk was read, so chunks queued behind one another do not add up
      await ctx.sleep(delayMs - (performance.now() - chunk.at));
      chunk.at = performance.now();
      await ctx.emit(chunk);
    },
  };
}

function bandwidth({ rate }: ToxicAttributes['bandwidth'], ctx: StageContext): ToxicBehavior {
  // time owed for the bytes already let through; timer lateness is paid back from it
  let owedMs = 0;
  const pieceBytes = rate * 100;
  return {
    async chunk(chunk) {
      if (rate <= 0) return ctx.emit(chunk);
      let data = chunk.data;
      owedMs += data.length / rate;
      // more than 100 ms worth goes out in 100 ms pieces
      while (data.length > pieceBytes) {
        await ctx.sleep(100);
        await ctx.emit({ data: data.subarray(0, pieceBytes), at: chunk.at });
        data = data.subarray(pieceBytes);
        owedMs -= 100;
      }
      const started = performance.now();
      await ctx.sleep(owedMs);
      owedMs -= performance.now() - started;
      await ctx.emit({ data, at: chunk.at });
    },
  };
}

function slowClose({ delay }: ToxicAttributes['slow_close'], ctx: StageContext): ToxicBehavior {
  return {
    chunk: (chunk) => ctx.emit(chunk),
    async end() {
      ctx.record('close_delayed');
      await ctx.sleep(delay);
    },
  };
}

function timeout({ timeout: timeoutMs }: ToxicAttributes['timeout'], ctx: StageContext): ToxicBehavior {
  let cancel: (() => void) | undefined;
  // as in Toxiproxy, the wait starts again with every chunk dropped
  const arm = () => {
    cancel?.();
    cancel = timeoutMs > 0 ? ctx.schedule(timeoutMs, () => ctx.close('timed_out')) : undefined;
  };
  return {
    start: arm,
    chunk() {
      arm();
      return undefined;
    },
    stop() {
      cancel?.();
      cancel = undefined;
    },
    // Toxiproxy's cleanup: the data is gone, so the connection closes with the toxic
    removed: () => ctx.close('closed_on_removal'),
  };
}

function resetPeer({ timeout: timeoutMs }: ToxicAttributes['reset_peer'], ctx: StageContext): ToxicBehavior {
  // the first chunk (or the end) starts the wait; it and whatever follows are dropped
  const reset = async () => {
    await ctx.sleep(timeoutMs, false);
    ctx.record('reset');
    ctx.reset();
  };
  return { chunk: reset, end: reset };
}

function slicer(
  { average_size, size_variation, delay }: ToxicAttributes['slicer'],
  ctx: StageContext,
): ToxicBehavior {
  return {
    async chunk(chunk) {
      const ends = sliceEnds(chunk.data.length, average_size, size_variation, ctx.random);
      let start = 0;
      for (const end of ends) {
        await ctx.emit({ data: chunk.data.subarray(start, end), at: chunk.at });
        start = end;
        await ctx.sleep(delay / 1000);
      }
    },
  };
}

/**
 * Where Toxiproxy's slicer cuts `length` bytes: a piece longer than average + variation is split
 * near its middle (± variation) and each half sliced again. Returns the end offset of each piece.
 */
export function sliceEnds(length: number, average: number, variation: number, random: Random): number[] {
  const ends: number[] = [];
  const pending: [number, number][] = [[0, length]];
  while (pending.length > 0) {
    const [start, end] = pending.pop()!;
    if (end - start - average <= variation) {
      ends.push(end);
      continue;
    }
    const offset = variation > 0 ? Math.floor(random.float() * 2 * variation) - variation : 0;
    // never an empty piece, so slicing always ends
    const middle = Math.min(Math.max(start + Math.floor((end - start) / 2) + offset, start + 1), end - 1);
    pending.push([middle, end], [start, middle]);
  }
  return ends;
}

function limitData(
  { bytes }: ToxicAttributes['limit_data'],
  ctx: StageContext,
  state: StageState,
): ToxicBehavior {
  return {
    async chunk(chunk) {
      const remaining = Math.max(0, bytes - state.transmittedBytes);
      const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
      if (data.length > 0) {
        state.transmittedBytes += data.length;
        await ctx.emit({ data, at: chunk.at });
      }
      if (bytes - state.transmittedBytes <= 0) ctx.close('limit_reached');
    },
  };
}
