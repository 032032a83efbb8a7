import type { Logger } from 'pino';

/**
 * Runs `work` every `intervalMs` (0: never), one round at a time: a round still running when the
 * next is due is not doubled. A failed round is logged as `what` and tried again next interval.
 * `stop()` clears the timer and waits for a round under way, so the pool can close after it.
 */
export function startPeriodic(options: {
  intervalMs: number;
  logger: Logger;
  what: string;
  work: () => Promise<void>;
}) {
  let running: Promise<void> | undefined;
  const round = () => {
    if (running) return;
    running = options
      .work()
      .catch((error) => options.logger.warn({ err: error }, `${options.what} failed; retrying next interval`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = options.intervalMs > 0 ? setInterval(round, options.intervalMs).unref() : undefined;
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
