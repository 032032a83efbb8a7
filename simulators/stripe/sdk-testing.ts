// Helpers for the conformance tests: the simulator with the official `stripe` SDK pointed at it,
// and a local webhook receiver that records what it was sent and answers as a test tells it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import type { FaultRuleInput, StartedSimulator } from '../kit/index.ts';
import { createStripeSimulator, type StripeSimulatorOptions, type StripeSimulatorState } from './index.ts';

export const testKey = 'sk_test_planewright_conformance';

/** The SDK as an application would configure it, aimed at the simulator. */
export function sdkFor(sim: { port: number }, config: Stripe.StripeConfig = {}): Stripe {
  return new Stripe(testKey, {
    host: '127.0.0.1',
    port: sim.port,
    protocol: 'http',
    telemetry: false,
    ...config,
  });
}

export interface StartedStripe extends AsyncDisposable {
  sim: StartedSimulator<StripeSimulatorState>;
  stripe: Stripe;
}

/** A started simulator (seed 1, silent) and an SDK client for it; `await using` stops it. */
export async function startStripe(
  options: StripeSimulatorOptions & { faults?: FaultRuleInput[]; sdk?: Stripe.StripeConfig } = {},
): Promise<StartedStripe> {
  const { faults, sdk, ...rest } = options;
  const builder = createStripeSimulator({ seed: 1, logLevel: 'silent', ...rest });
  if (faults) builder.withFaults(faults);
  const sim = await builder.start();
  return { sim, stripe: sdkFor(sim, sdk), [Symbol.asyncDispose]: () => sim.stop() };
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
  event: { id: string; type: string };
}

/**
 * A webhook receiver on a free local port. `answer` gives the status for the n-th request
 * (1-based); default 200.
 */
export async function startReceiver(answer: (n: number, received: Received[]) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = answer(received.length + 1, received);
      received.push({ headers: req.headers, body, status, event: JSON.parse(body) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stripe/webhooks`;
  return {
    url,
    received,
    /** Waits (up to `timeoutMs`) until `done(received)` holds. */
    async waitFor(done: (received: Received[]) => boolean, timeoutMs = 5_000): Promise<Received[]> {
      const deadline = performance.now() + timeoutMs;
      while (!done(received)) {
        if (performance.now() > deadline) {
          const seen = received.map((each) => `${each.event.type} → ${each.status}`).join(', ');
          throw new Error(`the receiver did not get what was expected within ${timeoutMs} ms; got: ${seen}`);
        }
        await sleep(10);
      }
      return received;
    },
    /** The received events of one type. */
    ofType: (type: string) => received.filter((each) => each.event.type === type),
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Unix seconds of an ISO time. */
export const unix = (iso: string) => Date.parse(iso) / 1000;
