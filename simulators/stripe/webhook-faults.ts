// Faults on OUTGOING webhooks: Stripe may deliver an event twice or out of order, and a receiver
// must cope. The kit's rules act on incoming requests, so these have their own small rule: a
// probability of each fault, optionally for some event types only. Each decision is drawn from a
// generator seeded by (simulator seed, event id, endpoint id), so it depends on which event it is,
// never on timing; event ids come from the seeded account, so one seed and one request sequence
// give one webhook fault journal.
import { z } from 'zod';
import { SimulatorError } from '../kit/index.ts';
import { typeMatches } from './events.ts';
import { seededRandom } from './ids.ts';

export interface WebhookFaultsInput {
  /** Chance that an event is delivered twice (the same event, signed anew). Default 0. */
  duplicate?: number;
  /** Chance that an event is held back and delivered after the next one to its endpoint. Default 0. */
  reorder?: number;
  /** Event types (`invoice.*` and `*` allowed) the faults apply to. Default all. */
  types?: string[];
  /** Longest a reordered event waits for a next one before it goes anyway. Default 1,000 ms. */
  holdMs?: number;
}

export type WebhookFault = 'duplicate' | 'reorder';

export interface WebhookFaultEntry {
  seq: number;
  fault: WebhookFault;
  eventId: string;
  eventType: string;
  endpointId: string;
  deliveryId: string;
}

const schema = z.strictObject({
  duplicate: z.number().min(0).max(1).optional(),
  reorder: z.number().min(0).max(1).optional(),
  types: z.array(z.string().min(1)).min(1).optional(),
  holdMs: z.number().int().min(0).max(60_000).optional(),
});

/** Validates webhook fault settings; throws `PW_SIM_BAD_INPUT` naming each mistake. */
export function parseWebhookFaults(input: unknown): WebhookFaultsInput {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw new SimulatorError(
    'PW_SIM_BAD_INPUT',
    `bad webhook faults: ${issues.join('; ')}`,
    'give {"duplicate": 0.5, "reorder": 0.2, "types": ["invoice.*"], "holdMs": 1000}; every field is optional',
  );
}

/** The settings in force, the decisions for each delivery, and the journal of faults that fired. */
export function createWebhookFaults(options: { seed: number; defaults: WebhookFaultsInput; limit: number }) {
  let settings = options.defaults;
  const journal: WebhookFaultEntry[] = [];
  let seq = 0;
  let dropped = 0;

  const append = (entry: Omit<WebhookFaultEntry, 'seq'>) => {
    journal.push({ seq: ++seq, ...entry });
    if (journal.length > options.limit) {
      journal.shift();
      dropped++;
    }
  };

  return {
    settings: () => ({ duplicate: 0, reorder: 0, types: ['*'], holdMs: 1_000, ...settings }),
    set(input: unknown) {
      settings = parseWebhookFaults(input);
    },
    /** Back to the simulator's options. The journal is kept, as the kit keeps its own. */
    reset() {
      settings = options.defaults;
    },
    /** Which faults hit the first attempt of this delivery; journaled when any does. */
    decide(delivery: { id: string; eventId: string; endpointId: string }, eventType: string) {
      const { duplicate = 0, reorder = 0, types = ['*'] } = settings;
      const decision = { duplicate: false, reorder: false };
      if ((duplicate === 0 && reorder === 0) || !types.some((type) => typeMatches(type, eventType))) {
        return decision;
      }
      const random = seededRandom(`${options.seed}\u0000${delivery.eventId}\u0000${delivery.endpointId}`);
      // both draws always happen, so one probability does not shift the other's outcome
      decision.duplicate = random() < duplicate;
      decision.reorder = random() < reorder;
      for (const fault of ['duplicate', 'reorder'] as const) {
        if (!decision[fault]) continue;
        const { id: deliveryId, eventId, endpointId } = delivery;
        append({ fault, eventId, eventType, endpointId, deliveryId });
      }
      return decision;
    },
    journal: () => ({ entries: [...journal], dropped, nextSeq: seq }),
  };
}

export type WebhookFaults = ReturnType<typeof createWebhookFaults>;
