// Stripe's webhooks (issue 7): POST /v1/webhooks/stripe, signed with STRIPE_WEBHOOK_SECRET
// (`Stripe-Signature`, checked by the SDK over the raw body). Each event is recorded once
// (webhook_events); the first delivery runs the handlers registered for its type, in the same
// transaction, so a repeated or concurrent delivery starts nothing twice. Handlers start flows;
// the request's trace (Stripe's traceparent) becomes the flows' trace.
import express, { type Request, type Response, type Router } from 'express';
import type Stripe from 'stripe';
import { type DbClient, withTransaction } from '../db/pool.ts';
import type { AppDeps } from '../deps.ts';

/** Runs in the transaction that records the event's first delivery. */
export type StripeEventHandler = (tx: DbClient, event: Stripe.Event, deps: AppDeps) => Promise<void>;

const handlers = new Map<string, StripeEventHandler[]>();

/** Registers a handler for one event type (at module load, by the flow that handles it). */
export function onStripeEvent(type: string, handler: StripeEventHandler): void {
  handlers.set(type, [...(handlers.get(type) ?? []), handler]);
}

const errorBody = (res: Response, status: number, code: string, message: string) =>
  res.status(status).json({ error: { code, message, requestId: res.getHeader('x-request-id') ?? null } });

export function stripeWebhookRouter(deps: AppDeps): Router {
  const router = express.Router();
  router.post(
    '/v1/webhooks/stripe',
    express.raw({ type: () => true, limit: '512kb' }),
    async (req: Request, res: Response) => {
      const stripe = deps.vendors.stripe;
      const secret = deps.config.STRIPE_WEBHOOK_SECRET;
      if (!stripe || !secret)
        return errorBody(
          res,
          404,
          'not_found',
          'Stripe webhooks are off: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET',
        );
      const signature = req.header('stripe-signature');
      if (!signature)
        return errorBody(res, 400, 'invalid_signature', 'the Stripe-Signature header is missing');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(
          Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          signature,
          secret,
        );
      } catch (error) {
        return errorBody(
          res,
          400,
          'invalid_signature',
          `the webhook signature does not verify: ${(error as Error).message}`,
        );
      }
      const object = event.data?.object as { id?: string } | undefined;
      const first = await withTransaction(deps.db, async (tx) => {
        const { rows } = await tx.query<{ first: boolean }>(
          `INSERT INTO webhook_events (provider, event_id, type, object_id) VALUES ('stripe', $1, $2, $3)
         ON CONFLICT (provider, event_id) DO UPDATE SET deliveries = webhook_events.deliveries + 1, last_received_at = now()
         RETURNING (xmax = 0) AS first`,
          [event.id, event.type, object?.id ?? null],
        );
        const isFirst = rows[0]!.first;
        if (isFirst) for (const handler of handlers.get(event.type) ?? []) await handler(tx, event, deps);
        return isFirst;
      });
      res.json({ received: true, duplicate: !first });
    },
  );
  return router;
}
