// Salesforce simulator benchmark: requests per second and latency of its typical call, POST
// /services/data/v62.0/sobjects/Task (session check, daily allowance, JSON body, validation,
// insert, Sforce-Limit-Info), through the whole kit, with no rules and with ten rules that do not
// match. The allowance is raised so the run measures the simulator, not REQUEST_LIMIT_EXCEEDED.
// autocannon drives the load from a worker thread; its percentiles are whole milliseconds, so one
// request at a time is also timed with performance.now(). Prints JSON.
// Usage: node bench/simulator-salesforce.ts [--seconds 5] [--connections 10] [--sequential 2000]

import { parseArgs } from 'node:util';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { createSalesforceSimulator } from '../simulators/salesforce/index.ts';
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

const path = '/services/data/v62.0/sobjects/Task';
const body = JSON.stringify({ Subject: 'Follow up', Priority: 'High', ActivityDate: '2030-01-15' });

const nonMatching = nonMatchingRules('/services/data');

/** An access token by the password grant, as jsforce's login gets one. */
async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      username: 'admin@planewright.test',
      password: 'planewright',
      client_id: 'planewright-client',
      client_secret: 'planewright-secret',
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function measure(name: string, rules: FaultRuleInput[]) {
  await using sim = await createSalesforceSimulator({
    seed: 1,
    logLevel: 'silent',
    config: { dailyApiLimit: 1_000_000_000 },
  })
    .withFaults(rules)
    .start();
  const url = `${sim.url}${path}`;
  const request = {
    method: 'POST' as const,
    headers: { authorization: `Bearer ${await login(sim.url)}`, 'content-type': 'application/json' },
    body,
  };
  return {
    case: name,
    rules: rules.length,
    underLoad: await underLoad(url, request, { connections, seconds, warmupSeconds: 1 }),
    oneAtATime: await oneAtATime(url, request, sequentialCount),
    tasksHeld: sim.state.org.store.records(sim.state.org.schema.object('Task')!).length,
  };
}

const cases = [await measure('no rules', []), await measure('ten non-matching rules', nonMatching)];
console.log(
  JSON.stringify(
    {
      benchmark: 'simulator-salesforce',
      node: process.version,
      call: `POST ${path}`,
      seconds,
      connections,
      cases,
    },
    null,
    2,
  ),
);
