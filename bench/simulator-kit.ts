// Simulator kit benchmark: requests per second and latency of a trivial route (the example
// vendor's GET /v1/ping) through the whole kit (request id, span, log, body, fault decision),
// with no rules, with ten rules that do not match, and with ten rules of which one matches but
// never fires (so every request is fingerprinted, drawn for and journaled). autocannon drives the
// load from a worker thread, so it does not share the simulator's event loop; its percentiles
// are whole milliseconds, so one request at a time is also timed with performance.now()
// (unloaded latency, client and simulator in one process). Prints JSON.
// Usage: node bench/simulator-kit.ts [--seconds 5] [--connections 10] [--sequential 2000]
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createExampleSimulator } from '../simulators/kit/example/index.ts';
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

const nonMatching: FaultRuleInput[] = Array.from({ length: 10 }, (_, i) => ({
  match:
    i % 2 === 0
      ? { method: 'POST', path: `/v1/other-${i}/*` }
      : { path: '/v1/**', headers: { 'x-never-sent': `value-${i}` } },
  fault: { kind: 'error', status: 500 },
}));
const oneInPlay: FaultRuleInput[] = [
  ...nonMatching.slice(1),
  { match: { path: '/v1/ping' }, fault: { kind: 'error', status: 500 }, probability: 0 },
];

async function measure(name: string, rules: FaultRuleInput[]) {
  // journalLimit is the default 100,000: the in-play case also measures a full, rolling journal
  await using sim = await createExampleSimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const result = await autocannon({
    url: `${sim.url}/v1/ping`,
    connections,
    duration: seconds,
    workers: 1,
  });
  const underLoad = {
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    requestsPerSecond: round(result.requests.average),
    latencyMedianMs: round(result.latency.p50),
    latencyP99Ms: round(result.latency.p99),
    latencyMaxMs: round(result.latency.max),
  };
  const times: number[] = [];
  for (let i = 0; i < sequentialCount; i++) {
    const start = performance.now();
    const response = await fetch(`${sim.url}/v1/ping`);
    await response.arrayBuffer();
    times.push(performance.now() - start);
  }
  const precise = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    case: name,
    rules: rules.length,
    underLoad,
    oneAtATime: {
      requests: sequentialCount,
      medianMs: precise(percentile(times, 50)),
      p99Ms: precise(percentile(times, 99)),
    },
    journalEntries: sim.journal.toJSON().nextSeq,
  };
}

const cases = [
  await measure('no rules', []),
  await measure('ten non-matching rules', nonMatching),
  await measure('ten rules, one in play (journaled, never fires)', oneInPlay),
];
console.log(
  JSON.stringify({ benchmark: 'simulator-kit', node: process.version, seconds, connections, cases }, null, 2),
);
