// Simulator kit benchmark: requests per second and latency of a trivial route (the example
// vendor's GET /v1/ping) through the whole kit (request id, span, log, body, fault decision),
// with no rules, with ten rules that do not match, and with ten rules of which one matches but
// never fires (so every request is fingerprinted, drawn for and journaled). autocannon drives the
// load from a worker thread, so it does not share the simulator's event loop; its percentiles
// are whole milliseconds, so one request at a time is also timed with performance.now()
// (unloaded latency, client and simulator in one process). Prints JSON.
// Usage: node bench/simulator-kit.ts [--seconds 5] [--connections 10] [--sequential 2000]
import { parseArgs } from 'node:util';
import { createExampleSimulator } from '../simulators/kit/example/index.ts';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { nonMatchingRules, oneAtATime, underLoad } from './http-load.ts';

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

const nonMatching = nonMatchingRules('/v1');
const oneInPlay: FaultRuleInput[] = [
  ...nonMatching.slice(1),
  { match: { path: '/v1/ping' }, fault: { kind: 'error', status: 500 }, probability: 0 },
];

async function measure(name: string, rules: FaultRuleInput[]) {
  // journalLimit is the default 100,000: the in-play case also measures a full, rolling journal
  await using sim = await createExampleSimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const url = `${sim.url}/v1/ping`;
  return {
    case: name,
    rules: rules.length,
    underLoad: await underLoad(url, {}, { connections, seconds }),
    oneAtATime: await oneAtATime(url, {}, sequentialCount),
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
