// Stripe simulator benchmark: requests per second and latency of its typical call, POST
// /v1/customers (authentication, form body, the account, the event, the webhook check), through
// the whole kit, with no rules and with ten rules that do not match; then the memory the
// simulator holds after 100,000 customers (and their 100,000 `customer.created` events) created
// over HTTP in this process. autocannon drives the load from a worker thread; its percentiles are
// whole milliseconds, so one request at a time is also timed with performance.now(). Prints JSON.
// Usage: node bench/simulator-stripe.ts [--seconds 5] [--connections 10] [--sequential 2000] [--customers 100000]

import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon from 'autocannon';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { createStripeSimulator } from '../simulators/stripe/index.ts';
import { nonMatchingRules, oneAtATime, underLoad } from './http-load.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    sequential: { type: 'string', default: '2000' },
    customers: { type: 'string', default: '100000' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const sequentialCount = Number(values.sequential);
const customerCount = Number(values.customers);

const request = {
  method: 'POST' as const,
  headers: {
    authorization: 'Bearer sk_test_bench',
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: 'email=bench%40example.com&name=Bench&metadata[source]=bench',
};

const nonMatching = nonMatchingRules('/v1');

async function measure(name: string, rules: FaultRuleInput[]) {
  await using sim = await createStripeSimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const url = `${sim.url}/v1/customers`;
  return {
    case: name,
    rules: rules.length,
    underLoad: await underLoad(url, request, { connections, seconds, warmupSeconds: 1 }),
    oneAtATime: await oneAtATime(url, request, sequentialCount),
  };
}

// a full collection before each reading, so the figures are what is held, not garbage
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const megabytes = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
function memory() {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsedMb: megabytes(heapUsed), rssMb: megabytes(rss) };
}

async function memoryAfterCustomers() {
  await using sim = await createStripeSimulator({ seed: 1, logLevel: 'silent' }).start();
  const before = memory();
  const started = performance.now();
  const result = await autocannon({
    url: `${sim.url}/v1/customers`,
    ...request,
    connections,
    amount: customerCount,
    workers: 1,
  });
  const elapsedS = (performance.now() - started) / 1000;
  const after = memory();
  // counted after the reading: a snapshot is a deep copy
  const held = sim.state.snapshot();
  return {
    customers: held.customers.length,
    events: held.events.length,
    errors: result.errors + result.non2xx,
    createdPerSecond: Math.round(customerCount / elapsedS),
    before,
    after,
    heapPerCustomerBytes: Math.round(((after.heapUsedMb - before.heapUsedMb) * 2 ** 20) / customerCount),
  };
}

// memory first, in a process that has held nothing else yet
const afterCustomers = await memoryAfterCustomers();
const cases = [await measure('no rules', []), await measure('ten non-matching rules', nonMatching)];
console.log(
  JSON.stringify(
    {
      benchmark: 'simulator-stripe',
      node: process.version,
      call: 'POST /v1/customers',
      seconds,
      connections,
      cases,
      memory: afterCustomers,
    },
    null,
    2,
  ),
);
