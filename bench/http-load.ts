// HTTP load for the simulator benchmarks: autocannon under load (from a worker thread, so it does
// not share the server's event loop; its percentiles are whole milliseconds) and one request at a
// time timed with performance.now() (unloaded latency, sub-millisecond).
import autocannon from 'autocannon';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { percentile, round } from './support.ts';

export interface BenchRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
}

/** Ten rules that never match a request under `prefix` (other paths, a header never sent). */
export function nonMatchingRules(prefix: string): FaultRuleInput[] {
  return Array.from({ length: 10 }, (_, i) => ({
    match:
      i % 2 === 0
        ? { method: 'POST', path: `${prefix}/other-${i}/*` }
        : { path: `${prefix}/**`, headers: { 'x-never-sent': `value-${i}` } },
    fault: { kind: 'error', status: 500 },
  }));
}

/** Requests per second and latency with `connections` concurrent clients for `seconds`. */
export async function underLoad(
  url: string,
  request: BenchRequest,
  options: { connections: number; seconds: number; warmupSeconds?: number },
) {
  if (options.warmupSeconds) {
    // so the first case measured does not pay for the JIT
    await autocannon({
      url,
      ...request,
      connections: options.connections,
      duration: options.warmupSeconds,
      workers: 1,
    });
  }
  const result = await autocannon({
    url,
    ...request,
    connections: options.connections,
    duration: options.seconds,
    workers: 1,
  });
  return {
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    requestsPerSecond: round(result.requests.average),
    latencyMedianMs: round(result.latency.p50),
    latencyP99Ms: round(result.latency.p99),
    latencyMaxMs: round(result.latency.max),
  };
}

/** `count` requests one after another; throws when one answers other than `expectStatus`. */
export async function oneAtATime(url: string, request: BenchRequest, count: number, expectStatus?: number) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const response = await fetch(url, request);
    await response.arrayBuffer();
    if (expectStatus !== undefined && response.status !== expectStatus) {
      throw new Error(`${url} answered ${response.status}, not ${expectStatus}`);
    }
    times.push(performance.now() - start);
  }
  const precise = (ms: number) => Math.round(ms * 1000) / 1000;
  return { requests: count, medianMs: precise(percentile(times, 50)), p99Ms: precise(percentile(times, 99)) };
}
