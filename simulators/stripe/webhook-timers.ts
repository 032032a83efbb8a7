// When the webhook sender wakes up by itself on a running clock: at the earliest pending retry
// (one timer, whatever the number of retries), and every second to look for billing work that
// came due without a request. A frozen clock has no timers: it moves only when advanced, and the
// advance runs the work. Timers never keep the process alive.

// how often a running clock looks for billing work that came due without a request
const tickMs = 1_000;

export function createSenderTimers(options: {
  frozen: boolean;
  /** The simulator clock, in ms: retry times are on it. */
  now: () => number;
  /** Sends what is due. */
  pump: () => void;
  /** Runs the billing work due by now. */
  tick: () => void;
  signal: AbortSignal;
}) {
  const retryAt = new Map<string, number>();
  let wake: NodeJS.Timeout | undefined;

  const schedule = (): void => {
    clearTimeout(wake);
    wake = undefined;
    if (options.frozen || options.signal.aborted || retryAt.size === 0) return;
    const nextMs = Math.min(...retryAt.values());
    wake = setTimeout(
      () => {
        wake = undefined;
        options.pump();
        // what is due and was not started is no longer pending (its endpoint went): forget it
        const now = options.now();
        for (const [id, atMs] of retryAt) if (atMs <= now) retryAt.delete(id);
        schedule();
      },
      Math.max(0, nextMs - options.now()),
    );
    wake.unref();
  };

  const ticker = options.frozen
    ? undefined
    : setInterval(() => {
        options.tick();
        options.pump();
      }, tickMs).unref();

  const clear = (): void => {
    retryAt.clear();
    clearTimeout(wake);
    wake = undefined;
  };
  options.signal.addEventListener('abort', () => {
    clearInterval(ticker);
    clear();
  });

  return {
    /** A delivery to retry at `atMs` on the simulator clock. */
    retryAt(deliveryId: string, atMs: number): void {
      retryAt.set(deliveryId, atMs);
      schedule();
    },
    /** The delivery is on its way: no timer needed for it. */
    started(deliveryId: string): void {
      retryAt.delete(deliveryId);
    },
    clear,
  };
}
