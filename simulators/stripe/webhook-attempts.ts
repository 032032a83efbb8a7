// Every POST the simulator made to a webhook endpoint, retries and injected duplicates included,
// for `/_sim/webhooks` and `/_sim/state`: the core keeps one record per delivery (its last
// status), a test often needs each attempt. Bounded like every log here.

export interface WebhookAttempt {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  /** 1 for the first try of a delivery, 2 for its first retry, …; a duplicate repeats its number. */
  attempt: number;
  /** Sent again by a `duplicate` webhook fault. */
  duplicate: boolean;
  /** Sent after a later event by a `reorder` webhook fault. */
  reordered: boolean;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** On the simulator clock. */
  at: string;
  durationMs: number;
}

export function createAttemptLog(limit: number) {
  let attempts: WebhookAttempt[] = [];
  let dropped = 0;
  return {
    add(attempt: WebhookAttempt): void {
      attempts.push(attempt);
      if (attempts.length > limit) {
        attempts.shift();
        dropped++;
      }
    },
    list: (): WebhookAttempt[] => attempts.map((attempt) => ({ ...attempt })),
    get dropped() {
      return dropped;
    },
    clear(): void {
      attempts = [];
      dropped = 0;
    },
  };
}

export type AttemptLog = ReturnType<typeof createAttemptLog>;
