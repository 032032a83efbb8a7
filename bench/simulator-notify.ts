// Notify simulator benchmark: requests per second and latency of SendGrid's `POST /v3/mail/send`
// (one recipient, text and HTML with a link) through the whole simulator: the kit (request id,
// span, log, body, fault decision), validation, link extraction, the mailbox and the scheduled
// delivery of every message. With no fault rules and with ten rules that do not match. autocannon
// runs in a worker thread; one request at a time is also timed with performance.now(). Prints JSON.
// Usage: node bench/simulator-notify.ts [--seconds 5] [--connections 10] [--sequential 2000]
import { parseArgs } from 'node:util';
import type { FaultRuleInput } from '../simulators/kit/index.ts';
import { createNotifySimulator } from '../simulators/notify/index.ts';
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

const send = {
  method: 'POST' as const,
  headers: { authorization: 'Bearer SG.bench.key', 'content-type': 'application/json' },
  body: JSON.stringify({
    personalizations: [{ to: [{ email: 'ann@example.test' }] }],
    from: { email: 'app@example.test', name: 'App' },
    subject: 'You are invited',
    content: [
      { type: 'text/plain', value: 'Join: https://app.example.test/invite?token=abc123' },
      { type: 'text/html', value: '<p><a href="https://app.example.test/invite?token=abc123">Join</a></p>' },
    ],
  }),
};

const nonMatching = nonMatchingRules('/v3');

async function measure(name: string, rules: FaultRuleInput[]) {
  // the default mailbox (10,000 messages, the oldest dropped) and default latencies: a rolling mailbox
  await using sim = await createNotifySimulator({ seed: 1, logLevel: 'silent' }).withFaults(rules).start();
  const url = `${sim.url}/v3/mail/send`;
  const loaded = await underLoad(url, send, { connections, seconds });
  const sequential = await oneAtATime(url, send, sequentialCount, 202);
  const snapshot = sim.state.snapshot();
  return {
    case: name,
    rules: rules.length,
    underLoad: loaded,
    oneAtATime: sequential,
    mailbox: { kept: snapshot.messages.length, dropped: snapshot.droppedMessages, counts: snapshot.counts },
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
}

const cases = [await measure('no rules', []), await measure('ten non-matching rules', nonMatching)];
console.log(
  JSON.stringify(
    { benchmark: 'simulator-notify', node: process.version, seconds, connections, cases },
    null,
    2,
  ),
);
