// Options are checked once, when the simulator is made; webhook fault decisions depend on the
// seed and the event, never on timing.
import { describe, expect, it } from 'vitest';
import { createStripeSimulator } from './index.ts';
import { resolveOptions } from './options.ts';
import { createWebhookFaults } from './webhook-faults.ts';

describe('options', () => {
  it('fills in defaults and names every mistake with PW_SIM_BAD_CONFIG', () => {
    const resolved = resolveOptions({ seed: 3 });
    expect(resolved).toMatchObject({
      seed: 3,
      clock: { frozen: false },
      webhookTimeoutMs: 10_000,
      processingMs: 0,
      webhookFaults: {},
      webhookRetry: { initialDelayMs: 500, maxAttempts: 5 },
    });
    expect(resolveOptions({}).seed).toBeGreaterThanOrEqual(0);
    expect(() => createStripeSimulator({ seed: -1, processingMs: 'slow' } as never)).toThrow(
      /PW_SIM_BAD_CONFIG: bad Stripe simulator options: seed: .*; processingMs: /,
    );
    expect(() => createStripeSimulator({ colck: {} } as never)).toThrow(/PW_SIM_BAD_CONFIG: .*colck/);
    expect(() => createStripeSimulator({ webhookFaults: { duplicate: 3 } })).toThrow(
      /PW_SIM_BAD_CONFIG: bad Stripe simulator options: webhookFaults: bad webhook faults: duplicate/,
    );
  });
});

describe('webhook fault decisions', () => {
  const delivery = (n: number) => ({ id: `whdel_${n}`, eventId: `evt_${n}`, endpointId: 'we_1' });

  it('are the same for the same seed and event, whatever the order they are asked in', () => {
    const decide = (seed: number, order: number[]) => {
      const faults = createWebhookFaults({ seed, defaults: { duplicate: 0.5, reorder: 0.5 }, limit: 100 });
      const decisions = new Map(order.map((n) => [n, faults.decide(delivery(n), 'invoice.paid')]));
      return [...decisions.entries()].sort(([a], [b]) => a - b);
    };
    const forwards = decide(1, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decide(1, [8, 7, 6, 5, 4, 3, 2, 1])).toEqual(forwards);
    expect(decide(2, [1, 2, 3, 4, 5, 6, 7, 8])).not.toEqual(forwards);
    expect(forwards.some(([, d]) => d.duplicate) && forwards.some(([, d]) => !d.duplicate)).toBe(true);
  });

  it('apply only to the types asked for, journal what fired, and reset to the defaults', () => {
    const faults = createWebhookFaults({ seed: 1, defaults: {}, limit: 2 });
    expect(faults.decide(delivery(1), 'invoice.paid')).toEqual({ duplicate: false, reorder: false });
    faults.set({ duplicate: 1, types: ['invoice.*'] });
    expect(faults.decide(delivery(2), 'customer.created')).toEqual({ duplicate: false, reorder: false });
    for (const n of [3, 4, 5]) expect(faults.decide(delivery(n), 'invoice.paid').duplicate).toBe(true);
    expect(faults.journal()).toMatchObject({
      dropped: 1,
      nextSeq: 3,
      entries: [{ seq: 2 }, { seq: 3, eventId: 'evt_5' }],
    });
    expect(() => faults.set({ duplicate: 1, extra: true })).toThrow(
      /PW_SIM_BAD_INPUT: bad webhook faults: .*extra/,
    );
    faults.reset();
    expect(faults.settings()).toEqual({ duplicate: 0, reorder: 0, types: ['*'], holdMs: 1_000 });
  });
});
