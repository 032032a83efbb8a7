// A tiny fake vendor ("Examplepay") that the kit's tests run against. Test fixture only: it is not
// a shipped simulator, and `planewright sim` reaches it only through `--module`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request } from 'express';
import {
  Simulator,
  type SimulatorContext,
  type SimulatorFactoryOptions,
  type SimulatorState,
} from '../index.ts';

interface Charge {
  id: string;
  amount: number;
  account: string | null;
  status: 'pending' | 'expired';
  expiresAt: string;
}

export class ExampleState implements SimulatorState {
  charges = new Map<string, Charge>();
  advances: { from: string; to: string }[] = [];
  deliveries: { event: string; status: number | string; traceparent: string | undefined }[] = [];
  webhookUrl: string | undefined;

  snapshot() {
    return { charges: [...this.charges.values()], advances: this.advances, deliveries: this.deliveries };
  }

  reset() {
    this.charges.clear();
    this.advances = [];
    this.deliveries = [];
  }
}

export interface ExampleOptions extends SimulatorFactoryOptions {
  /** The clock moves only when advanced. */
  frozenClock?: boolean;
  /** Where `charge.created` events are posted. */
  webhookUrl?: string;
}

export function createExampleSimulator(options: ExampleOptions = {}) {
  const state = new ExampleState();
  state.webhookUrl = options.webhookUrl;
  let nextId = 1;
  return new Simulator({
    name: 'example',
    state,
    seed: options.seed,
    logLevel: options.logLevel,
    requestIdHeader: 'Request-Id',
    tenant: (req) => req.get('example-account'),
    clock: {
      start: '2030-01-01T00:00:00Z',
      frozen: options.frozenClock ?? true,
      onAdvance(from, to) {
        state.advances.push({ from: from.toISOString(), to: to.toISOString() });
        for (const charge of state.charges.values()) {
          if (Date.parse(charge.expiresAt) <= to.getTime()) charge.status = 'expired';
        }
      },
    },
    vendor: {
      error: (status, message) => ({
        body: { error: { type: status >= 500 ? 'api_error' : 'invalid_request_error', message } },
      }),
      throttle: (_req, { retryAfterS }) => ({
        status: 429,
        headers: { 'retry-after': String(retryAfterS), 'x-ratelimit-remaining': '0' },
        body: { error: { type: 'rate_limit_error', message: 'Too many requests' } },
      }),
      outage: (_req, { status }) => ({ status, body: { error: { type: 'service_unavailable' } } }),
    },
  })
    .withRoutes((router, ctx) => {
      router.get('/v1/ping', (_req, res) => {
        res.json({ ok: true });
      });
      router.get('/v1/slow', async (req, res) => {
        await sleep(Number(req.query.ms ?? 200));
        res.json({ ok: true });
      });
      router.post('/v1/charges', (req, res) => {
        const amount = Number((req.body as { amount?: unknown } | undefined)?.amount);
        if (!Number.isInteger(amount) || amount <= 0) {
          return ctx.sendError(req, res, 400, 'amount must be a positive integer');
        }
        const charge: Charge = {
          id: `ch_${nextId++}`,
          amount,
          account: req.get('example-account') ?? null,
          status: 'pending',
          expiresAt: new Date(ctx.clock.now() + 3_600_000).toISOString(),
        };
        state.charges.set(charge.id, charge);
        if (state.webhookUrl) void ctx.track(deliver(ctx, req, state, state.webhookUrl, charge));
        res.status(201).json(charge);
      });
      router.get('/v1/charges/:id', (req, res) => {
        const charge = state.charges.get(req.params.id);
        if (!charge) return ctx.sendError(req, res, 404, `No such charge: ${req.params.id}`);
        res.json(charge);
      });
    })
    .withAdminRoutes((router) => {
      router.get('/deliveries', (_req, res) => {
        res.json({ deliveries: state.deliveries });
      });
    });
}

/** A webhook delivery after the answer, in a span linked to the request that caused it. */
async function deliver(
  ctx: SimulatorContext<ExampleState>,
  req: Request,
  state: ExampleState,
  url: string,
  charge: Charge,
) {
  await sleep(5);
  await ctx.inLinkedSpan('example.webhook.deliver', req, async () => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...ctx.traceHeaders() };
    const body = JSON.stringify({ type: 'charge.created', data: charge });
    const status = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(2_000),
    }).then(
      (response) => response.status,
      (error: Error) => error.message,
    );
    state.deliveries.push({ event: 'charge.created', status, traceparent: headers.traceparent });
  });
}
