// What every benchmark shares: percentiles and where the embedded Postgres keeps its data.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (ms: number) => Math.round(ms * 10) / 10;

export function summarize(timesMs: number[]) {
  return {
    medianMs: round(percentile(timesMs, 50)),
    p90Ms: round(percentile(timesMs, 90)),
    p99Ms: round(percentile(timesMs, 99)),
    minMs: round(Math.min(...timesMs)),
    maxMs: round(Math.max(...timesMs)),
  };
}

/**
 * The folders to measure the embedded server's data in: the temporary folder and, where there is
 * one, /dev/shm (tmpfs), since on slow virtual disks file creation dominates. An external server
 * (DATABASE_URL) has one place only.
 */
export function dataFolders(): string[] {
  if (process.env.DATABASE_URL) return [tmpdir()];
  return [tmpdir(), ...(existsSync('/dev/shm') && tmpdir() !== '/dev/shm' ? ['/dev/shm'] : [])];
}
