// Auth simulator benchmark: requests per second and latency of its typical call, a token request
// (POST /oauth/token, client_credentials for the default API: client authentication, one RS256
// signature, JSON answer), with no fault rules and with ten rules that do not match. autocannon
// drives the load from a worker thread; its percentiles are whole milliseconds, so one request at
// a time is also timed with performance.now(). Prints JSON.
// Usage: node bench/simulator-auth.ts [--seconds 5] [--connections 10] [--sequential 2000]
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createAuthSimulator, DEFAULT_API, M2M_CLIENT } from '../simulators/auth/index.ts';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { percentile, round } from './support.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    sequential: { type: 'string', default: '2000' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const sequentialCount = Number(values.sequential);

const body = new URLSearchParams({
  grant_type: 'client_credentials',
  client_id: M2M_CLIENT.client_id,
  client_secret: M2M_CLIENT.client_secret!,
  audience: DEFAULT_API.identifier,
}).toString();
const headers = { 'content-type': 'application/x-www-form-urlencoded' };

const nonMatching: FaultRuleInput[] = Array.from({ length: 10 }, (_, i) => ({
  match:
    i % 2 === 0
      ? { method: 'POST', path: `/api/v2/other-${i}/*` }
      : { path: '/oauth/**', headers: { 'x-never-sent': `value-${i}` } },
  fault: { kind: 'error', status: 500 },
}));

async function measure(name: string, rules: FaultRuleInput[]) {
  await using sim = await createAuthSimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const url = `${sim.url}/oauth/token`;
  // a second of warm-up, so that the first case does not also pay for the JIT
  await autocannon({ url, method: 'POST', headers, body, connections, duration: 1, workers: 1 });
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections,
    duration: seconds,
    workers: 1,
  });
  const times: number[] = [];
  for (let i = 0; i < sequentialCount; i++) {
    const start = performance.now();
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`token request answered ${response.status}`);
    times.push(performance.now() - start);
  }
  const precise = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    case: name,
    rules: rules.length,
    underLoad: {
      requests: result.requests.total,
      errors: result.errors + result.non2xx,
      requestsPerSecond: round(result.requests.average),
      latencyMedianMs: round(result.latency.p50),
      latencyP99Ms: round(result.latency.p99),
      latencyMaxMs: round(result.latency.max),
    },
    oneAtATime: {
      requests: sequentialCount,
      medianMs: precise(percentile(times, 50)),
      p99Ms: precise(percentile(times, 99)),
    },
  };
}

const cases = [await measure('no rules', []), await measure('ten non-matching rules', nonMatching)];
console.log(
  JSON.stringify(
    {
      benchmark: 'simulator-auth',
      call: 'POST /oauth/token (client_credentials)',
      node: process.version,
      seconds,
      connections,
      cases,
    },
    null,
    2,
  ),
);
