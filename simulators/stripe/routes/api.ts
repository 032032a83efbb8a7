// How every /v1 route runs: parameters decoded from Stripe's form encoding (the body of a POST, the
// query of a GET or DELETE), billing work due by now run first, POSTs under their idempotency key,
// the core's StripeError sent as Stripe's error object, and the webhooks the request caused sent
// after it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response, Router } from 'express';
import type { SimulatorContext } from '../../kit/index.ts';
import { invalidRequest, StripeError } from '../errors.ts';
import { decodeForm } from '../form.ts';
import type { SavedResponse } from '../idempotency.ts';
import type { Params } from '../params.ts';
import type { StripeSimulatorState } from '../sim-state.ts';
import type { RequestContext } from '../store.ts';
import type { WebhookSender } from '../webhook-sender.ts';
import { apiKeyOf } from './auth.ts';

export interface ApiDeps {
  state: StripeSimulatorState;
  ctx: SimulatorContext<StripeSimulatorState>;
  sender: WebhookSender;
  /** Time a write spends holding its idempotency key (the `processingMs` option). */
  processingMs: number;
  /** Webhook endpoints may point off this machine (the `allowExternalWebhooks` option). */
  allowExternalWebhooks: boolean;
}

/** What a route's handler gets: the path's `:id`, the decoded parameters, who asked. */
export interface Call {
  id: string;
  params: Params;
  request: RequestContext;
}

type Handler = (call: Call) => unknown;

const queryOf = (req: Request) => {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
};

function send(res: Response, { status, body }: SavedResponse): void {
  if (!res.headersSent && !res.destroyed) res.status(status).json(body);
}

/** `run`'s answer, or the StripeError it threw as Stripe's answer; other errors propagate. */
async function rescue(run: () => SavedResponse | Promise<SavedResponse>): Promise<SavedResponse> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StripeError) return error.toResponse();
    throw error;
  }
}

export function createApi(router: Router, deps: ApiDeps) {
  const { state, ctx, sender } = deps;

  const callOf = (req: Request, params: Params): Call => {
    const key = req.get('idempotency-key');
    return {
      id: String(req.params.id ?? ''),
      params,
      request: { requestId: ctx.requestId(req) ?? null, idempotencyKey: key || null },
    };
  };

  /** GET and DELETE: parameters in the query, nothing to make idempotent. */
  const fromQuery = (handler: Handler) => async (req: Request, res: Response) => {
    try {
      send(
        res,
        await rescue(() => {
          state.stripe.runDue();
          return { status: 200, body: handler(callOf(req, decodeForm(queryOf(req)))) };
        }),
      );
    } finally {
      sender.afterRequest();
    }
  };

  /** POST: form-encoded parameters, under the request's Idempotency-Key when it has one. */
  const fromBody = (handler: Handler) => async (req: Request, res: Response) => {
    try {
      const decoded = await rescue(() => {
        if (req.is('application/json')) {
          throw invalidRequest(
            'Invalid request: send form-encoded parameters (application/x-www-form-urlencoded), not JSON, to /v1 endpoints.',
          );
        }
        return { status: 200, body: decodeForm(ctx.rawBody(req)) };
      });
      if (decoded.status !== 200) return send(res, decoded);
      const params = decoded.body as Params;
      // throws the core's StripeError: the idempotency store decides whether Stripe would save it
      const run = async (): Promise<SavedResponse> => {
        if (deps.processingMs > 0) await sleep(deps.processingMs, undefined, { signal: ctx.signal });
        state.stripe.runDue();
        return { status: 200, body: handler(callOf(req, params)) };
      };
      const key = req.get('idempotency-key');
      if (!key) return send(res, await rescue(run));
      const path = req.path;
      const scope = apiKeyOf(req);
      const result = await state.idempotency.execute({ scope, key, method: 'POST', path, params }, run);
      res.setHeader('Idempotency-Key', key);
      if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
      send(res, result);
    } finally {
      sender.afterRequest();
    }
  };

  return {
    get: (path: string, handler: Handler) => router.get(path, fromQuery(handler)),
    del: (path: string, handler: Handler) => router.delete(path, fromQuery(handler)),
    post: (path: string, handler: Handler) => router.post(path, fromBody(handler)),
  };
}

export type Api = ReturnType<typeof createApi>;
