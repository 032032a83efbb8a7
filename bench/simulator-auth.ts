// Auth simulator benchmark: requests per second and latency of its typical call, a token request
// (POST /oauth/token, client_credentials for the default API: client authentication, one RS256
// signature, JSON answer), with no fault rules and with ten rules that do not match. autocannon
// drives the load from a worker thread; its percentiles are whole milliseconds, so one request at
// a time is also timed with performance.now(). Prints JSON.
// Usage: node bench/simulator-auth.ts [--seconds 5] [--connections 10] [--sequential 2000]
import { parseArgs } from 'node:util';
import { createAuthSimulator, DEFAULT_API, M2M_CLIENT } from '../simulators/auth/index.ts';
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

const body = new URLSearchParams({
  grant_type: 'client_credentials',
  client_id: M2M_CLIENT.client_id,
  client_secret: M2M_CLIENT.client_secret!,
  audience: DEFAULT_API.identifier,
}).toString();
const headers = { 'content-type': 'application/x-www-form-urlencoded' };

const nonMatching = nonMatchingRules('/oauth');

async function measure(name: string, rules: FaultRuleInput[]) {
  await using sim = await createAuthSimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const url = `${sim.url}/oauth/token`;
  const request = { method: 'POST' as const, headers, body };
  return {
    case: name,
    rules: rules.length,
    underLoad: await underLoad(url, request, { connections, seconds, warmupSeconds: 1 }),
    oneAtATime: await oneAtATime(url, request, sequentialCount, 200),
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
