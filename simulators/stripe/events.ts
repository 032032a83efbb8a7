import { previousAttributes } from './diff.ts';
import { noSuch } from './errors.ts';
import type { IdGenerator } from './ids.ts';
import type { ListObject, StripeEvent } from './objects/types.ts';
import { newestFirst, paginate, readRange } from './pagination.ts';
import { type Params, readString, readStringList } from './params.ts';

/** Who caused a change: the API request (id and idempotency key), or nobody for clock-driven work. */
export interface RequestContext {
  requestId?: string | null;
  idempotencyKey?: string | null;
}

export interface EmitInput {
  type: string;
  /** The object as it is now; the event keeps its own copy. */
  object: object;
  /** The object before the change, for `previous_attributes` on `*.updated` events. */
  before?: object;
  created: number;
  request?: RequestContext;
}

export interface EventLog {
  /** Appends an event; an `*.updated` event whose object did not change is not appended. */
  emit(input: EmitInput): StripeEvent | undefined;
  retrieve(id: string): StripeEvent;
  find(id: string): StripeEvent | undefined;
  list(params: Params): ListObject<StripeEvent>;
  values(): IterableIterator<StripeEvent>;
  readonly size: number;
  clear(): void;
}

/**
 * Whether a type filter (`invoice.*`, `*`, or an exact type) takes an event type. Stripe's events
 * list accepts `*` wildcards; webhook endpoints accept `*` or exact types.
 */
export function typeMatches(filter: string, type: string): boolean {
  if (filter === '*' || filter === type) return true;
  if (!filter.includes('*')) return false;
  const pattern = filter.replaceAll('.', '\\.').replaceAll('*', '[^]*');
  return new RegExp(`^${pattern}$`).test(type);
}

/**
 * The event log. It is bounded (`maxEvents`, oldest dropped first) since a long run can create
 * events without end; Stripe itself keeps only 30 days. `deliver` enqueues the webhook deliveries
 * for a new event and says how many, which becomes its `pending_webhooks`.
 */
export function createEventLog(options: {
  ids: IdGenerator;
  apiVersion: string;
  maxEvents: number;
  deliver: (event: StripeEvent) => number;
}): EventLog {
  const events = new Map<string, StripeEvent>();
  return {
    emit({ type, object, before, created, request }) {
      const data: StripeEvent['data'] = { object: structuredClone(object) as Record<string, unknown> };
      if (before) {
        const previous = previousAttributes(
          before as Record<string, unknown>,
          object as Record<string, unknown>,
        );
        if (!previous) return undefined;
        data.previous_attributes = structuredClone(previous);
      }
      const event: StripeEvent = {
        id: options.ids.next('evt'),
        object: 'event',
        api_version: options.apiVersion,
        created,
        data,
        livemode: false,
        pending_webhooks: 0,
        request: { id: request?.requestId ?? null, idempotency_key: request?.idempotencyKey ?? null },
        type,
      };
      events.set(event.id, event);
      if (events.size > options.maxEvents) events.delete(events.keys().next().value as string);
      event.pending_webhooks = options.deliver(event);
      return event;
    },
    retrieve(id) {
      const event = events.get(id);
      if (!event) throw noSuch('event', id);
      return event;
    },
    find: (id) => events.get(id),
    list(params) {
      const type = readString(params, 'type');
      const types = readStringList(params, 'types');
      const created = readRange(params, 'created');
      const keep = (event: StripeEvent) =>
        created(event.created) &&
        (type === undefined || typeMatches(type, event.type)) &&
        (types === undefined || types.some((filter) => typeMatches(filter, event.type)));
      return paginate(newestFirst(events.values(), keep), params, '/v1/events', 'event');
    },
    values: () => events.values(),
    get size() {
      return events.size;
    },
    clear: () => events.clear(),
  };
}
