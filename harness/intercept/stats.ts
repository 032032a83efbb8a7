// Counters of what was intercepted, kept on a global so a test in the same process (or the
// preload's exit line) can read them without importing the preload's module instance.
import { writeSync } from 'node:fs';

export interface InterceptStats {
  /** Requests sent to a simulator (answered or not). */
  intercepted: number;
  /** Intercepted requests that got no answer: the simulator unreachable, too slow, or the body too large. */
  failed: number;
  /** Intercepted requests per simulator name. */
  bySimulator: Record<string, number>;
  /** Intercepted requests per original host. */
  byHost: Record<string, number>;
}

const key = Symbol.for('planewright.intercept.stats');
type WithStats = typeof globalThis & { [key]?: InterceptStats };

/** This process's counters (zero until something is intercepted). */
export function interceptStats(): InterceptStats {
  const holder = globalThis as WithStats;
  holder[key] ??= { intercepted: 0, failed: 0, bySimulator: {}, byHost: {} };
  return holder[key];
}

export function countInterception(simulator: string, host: string): void {
  const stats = interceptStats();
  stats.intercepted += 1;
  stats.bySimulator[simulator] = (stats.bySimulator[simulator] ?? 0) + 1;
  stats.byHost[host] = (stats.byHost[host] ?? 0) + 1;
}

export function countFailure(): void {
  interceptStats().failed += 1;
}

/** The line written at exit: `{"planewrightIntercept":{…}}`, so it is easy to pick out of a log. */
export function statsLine(): string {
  return `${JSON.stringify({ planewrightIntercept: interceptStats() })}\n`;
}

/** Writes {@link statsLine} on stderr when the process exits (synchronously: 'exit' runs no I/O later). */
export function writeStatsAtExit(): void {
  process.once('exit', () => {
    try {
      writeSync(2, statsLine());
    } catch {
      // stderr already closed: nothing left to tell
    }
  });
}
