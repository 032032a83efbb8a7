// The hold-back of a `reorder` webhook fault: an event held back goes right after the next event
// sent to its endpoint, or on its own after `holdMs` if no other event comes (a reorder must not
// become a loss). At most one event per endpoint is held; holding another sends the first.
import type { WebhookDelivery } from './webhook-delivery.ts';

export function createHoldBack(options: {
  holdMs: () => number;
  /** Sends a held delivery whose wait is over. */
  release: (delivery: WebhookDelivery) => void;
}) {
  const held = new Map<string, { delivery: WebhookDelivery; timer: NodeJS.Timeout }>();

  const take = (endpointId: string): WebhookDelivery | undefined => {
    const entry = held.get(endpointId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    held.delete(endpointId);
    return entry.delivery;
  };

  return {
    /** Holds `delivery` back; returns the one held earlier for its endpoint, to be sent now. */
    hold(delivery: WebhookDelivery): WebhookDelivery | undefined {
      const { endpointId } = delivery;
      const earlier = take(endpointId);
      const timer = setTimeout(() => {
        if (held.get(endpointId)?.delivery !== delivery) return;
        held.delete(endpointId);
        options.release(delivery);
      }, options.holdMs());
      timer.unref();
      held.set(endpointId, { delivery, timer });
      return earlier;
    },
    /** The delivery held for this endpoint, if any, no longer held. */
    take,
    clear(): void {
      for (const entry of held.values()) clearTimeout(entry.timer);
      held.clear();
    },
  };
}
