// One POST of a signed event to a webhook endpoint, and what Stripe makes of the answer: any 2xx is
// delivered; anything else, a redirect, a refused connection or a timeout is a failure to retry.
// Each POST runs in a span of its own linked to the request that caused the event, and is logged.
import { type SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { postOutbound, type SimulatorContext } from '../kit/index.ts';
import type { StripeSimulatorState } from './sim-state.ts';
import type { AttemptLog } from './webhook-attempts.ts';
import type { DeliveryResult, WebhookDelivery } from './webhook-delivery.ts';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Posts once, bounded by `timeoutMs` and by `signal` (the simulator stopping); never throws. Only
 * to loopback unless `allowExternal` (the kit's postOutbound checks the URL again at sending).
 */
export async function postWebhook(
  request: WebhookRequest,
  options: { timeoutMs: number; signal: AbortSignal; allowExternal?: boolean },
): Promise<DeliveryResult> {
  // Stripe counts a redirect as a failure, and does not follow it; the receiver's body is not read
  const result = await postOutbound(
    request.url,
    { method: 'POST', headers: request.headers, body: request.body },
    options,
  );
  if (result.status !== undefined) return { ok: result.ok, statusCode: result.status };
  return { ok: false, error: result.error ?? 'not sent' };
}

export interface TracedPost {
  delivery: WebhookDelivery;
  prepared: WebhookRequest;
  /** The span of the request that caused the event, to link to. */
  cause?: SpanContext | undefined;
  eventType?: string;
  number: number;
  duplicate: boolean;
  reordered: boolean;
}

/** Posts once in a linked CLIENT span carrying `traceparent` to the receiver, and logs the attempt. */
export async function postTraced(
  deps: {
    ctx: SimulatorContext<StripeSimulatorState>;
    attempts: AttemptLog;
    timeoutMs: number;
    allowExternal?: boolean;
  },
  post: TracedPost,
): Promise<DeliveryResult> {
  const { ctx, timeoutMs, allowExternal } = deps;
  const { delivery, prepared, eventType = '' } = post;
  const at = ctx.clock.date().toISOString();
  const startedMs = performance.now();
  const attributes = {
    'stripe.event.id': delivery.eventId,
    'stripe.event.type': eventType,
    'stripe.webhook_endpoint.id': delivery.endpointId,
    'sim.webhook.attempt': post.number,
    'sim.webhook.duplicate': post.duplicate,
    'url.full': prepared.url,
  };
  const result = await ctx.inLinkedSpan(
    'stripe.webhook.deliver',
    post.cause,
    async (span) => {
      const headers = { ...prepared.headers, ...ctx.traceHeaders() };
      const outcome = await postWebhook(
        { ...prepared, headers },
        { timeoutMs, signal: ctx.signal, allowExternal },
      );
      if (outcome.statusCode !== undefined)
        span.setAttribute('http.response.status_code', outcome.statusCode);
      if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? 'not 2xx' });
      return outcome;
    },
    { kind: SpanKind.CLIENT, attributes },
  );
  const log = { eventId: delivery.eventId, url: prepared.url, attempt: post.number, ...result };
  ctx.logger.debug(log, 'webhook attempt');
  deps.attempts.add({
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    eventType,
    endpointId: delivery.endpointId,
    url: prepared.url,
    attempt: post.number,
    duplicate: post.duplicate,
    reordered: post.reordered,
    ok: result.ok,
    statusCode: result.statusCode ?? null,
    error: result.ok ? null : (result.error ?? `status ${result.statusCode}`),
    at,
    durationMs: Math.round((performance.now() - startedMs) * 10) / 10,
  });
  return result;
}
