import type { Random } from './ids.ts';

/** How a failed delivery is retried. */
export interface RetryPolicy {
  /** Delay before the first retry. */
  initialDelayMs: number;
  /** Each further retry waits this many times longer… */
  multiplier: number;
  /** …up to this. */
  maxDelayMs: number;
  /** Attempts in all, the first included; after the last failure the delivery is given up. */
  maxAttempts: number;
  /** ± this fraction of random spread on each delay, so retries of many events do not line up. */
  jitter: number;
}

/** Quick retries for tests (0.5 s, 1 s, 2 s, 4 s): the default. */
export const fastRetryPolicy: RetryPolicy = {
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 30_000,
  maxAttempts: 5,
  jitter: 0.1,
};

/** Close to Stripe in live mode: exponential backoff over about three days. */
export const stripeLiveRetryPolicy: RetryPolicy = {
  initialDelayMs: 60_000,
  multiplier: 3,
  maxDelayMs: 12 * 3_600_000,
  maxAttempts: 16,
  jitter: 0.2,
};

/**
 * The wait before retry number `failedAttempts` (1 after the first failure); `undefined` once the
 * policy gives up.
 *
 * @example retryDelayMs(1, fastRetryPolicy, () => 0.5) // 500
 */
export function retryDelayMs(
  failedAttempts: number,
  policy: RetryPolicy,
  random: Random,
): number | undefined {
  if (failedAttempts >= policy.maxAttempts) return undefined;
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (failedAttempts - 1));
  return Math.round(base * (1 + policy.jitter * (random() * 2 - 1)));
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAtMs: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAtMs: number;
}

export interface DeliveryResult {
  /** The receiver answered 2xx. */
  ok: boolean;
  statusCode?: number;
  error?: string;
}

/**
 * What to deliver to whom and when; the sender (wired with the HTTP layer) takes `due()` work,
 * posts it and reports back with `record()`. Bounded: past `maxDeliveries`, finished deliveries go
 * first, then the oldest pending ones (counted in `dropped`).
 */
export function createDeliveryQueue(options: {
  nextId: () => string;
  policy: RetryPolicy;
  random: Random;
  maxDeliveries: number;
  /** Called once a delivery is finished (delivered or given up), to lower `pending_webhooks`. */
  onSettled: (delivery: WebhookDelivery) => void;
}) {
  const deliveries = new Map<string, WebhookDelivery>();
  let dropped = 0;

  const trim = () => {
    if (deliveries.size <= options.maxDeliveries) return;
    for (const [id, delivery] of deliveries) {
      if (delivery.status !== 'pending') deliveries.delete(id);
      if (deliveries.size <= options.maxDeliveries) return;
    }
    for (const id of deliveries.keys()) {
      deliveries.delete(id);
      dropped++;
      if (deliveries.size <= options.maxDeliveries) return;
    }
  };

  return {
    enqueue(eventId: string, endpoint: { id: string; url: string }, nowMs: number): WebhookDelivery {
      const delivery: WebhookDelivery = {
        id: options.nextId(),
        eventId,
        endpointId: endpoint.id,
        url: endpoint.url,
        status: 'pending',
        attempts: 0,
        nextAttemptAtMs: nowMs,
        lastStatusCode: null,
        lastError: null,
        createdAtMs: nowMs,
      };
      deliveries.set(delivery.id, delivery);
      trim();
      return delivery;
    },
    /** Pending deliveries whose time has come, oldest first. */
    due(nowMs: number, limit = 100): WebhookDelivery[] {
      const out: WebhookDelivery[] = [];
      for (const delivery of deliveries.values()) {
        if (out.length >= limit) break;
        if (delivery.status === 'pending' && (delivery.nextAttemptAtMs ?? Infinity) <= nowMs)
          out.push(delivery);
      }
      return out;
    },
    record(id: string, result: DeliveryResult, nowMs: number): WebhookDelivery | undefined {
      const delivery = deliveries.get(id);
      if (delivery?.status !== 'pending') return delivery;
      delivery.attempts++;
      delivery.lastStatusCode = result.statusCode ?? null;
      delivery.lastError = result.ok ? null : (result.error ?? `status ${result.statusCode ?? 'none'}`);
      const delay = result.ok ? undefined : retryDelayMs(delivery.attempts, options.policy, options.random);
      if (delay === undefined) {
        delivery.status = result.ok ? 'delivered' : 'failed';
        delivery.nextAttemptAtMs = null;
        options.onSettled(delivery);
      } else {
        delivery.nextAttemptAtMs = nowMs + delay;
      }
      return delivery;
    },
    get: (id: string) => deliveries.get(id),
    list: (): WebhookDelivery[] => [...deliveries.values()],
    /** Endpoint gone: its pending deliveries are given up. */
    cancelForEndpoint(endpointId: string): void {
      for (const delivery of deliveries.values()) {
        if (delivery.endpointId !== endpointId || delivery.status !== 'pending') continue;
        delivery.status = 'failed';
        delivery.lastError = 'endpoint deleted';
        delivery.nextAttemptAtMs = null;
        options.onSettled(delivery);
      }
    },
    get dropped() {
      return dropped;
    },
    clear(): void {
      deliveries.clear();
      dropped = 0;
    },
  };
}

export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;
