import { invalidRequest, noSuch } from './errors.ts';
import type { ListObject } from './objects/types.ts';
import { type Params, readInt, readString } from './params.ts';

const defaultLimit = 10;
const maxLimit = 100;

/** The `limit` parameter, checked against Stripe's bounds (1–100, default 10). */
export function readLimit(params: Params): number {
  const limit = readInt(params, 'limit') ?? defaultLimit;
  if (limit < 1 || limit > maxLimit) {
    throw invalidRequest(
      `Invalid limit: must be between 1 and ${maxLimit}`,
      'limit',
      'parameter_invalid_integer',
    );
  }
  return limit;
}

/**
 * One page of `items` (already filtered, newest first) the way Stripe pages lists:
 * `starting_after` gives the items after that id, `ending_before` the `limit` items just before it
 * (still newest first), and `has_more` says whether the list goes on in the direction of paging.
 * `kind` names the objects in the error for a cursor that is not in the list.
 *
 * @example paginate(customers, { limit: '2', starting_after: 'cus_b' }, '/v1/customers', 'customer')
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  params: Params,
  url: string,
  kind: string,
): ListObject<T> {
  const limit = readLimit(params);
  const startingAfter = readString(params, 'starting_after');
  const endingBefore = readString(params, 'ending_before');
  if (startingAfter && endingBefore) {
    throw invalidRequest(
      'You may only specify one of these parameters: ending_before, starting_after.',
      'ending_before',
    );
  }
  const indexOf = (id: string, param: string) => {
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) throw noSuch(kind, id, param);
    return index;
  };
  if (endingBefore) {
    const end = indexOf(endingBefore, 'ending_before');
    const start = Math.max(0, end - limit);
    return { object: 'list', data: items.slice(start, end), has_more: start > 0, url };
  }
  const start = startingAfter ? indexOf(startingAfter, 'starting_after') + 1 : 0;
  const data = items.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < items.length, url };
}

/** Newest first: Stripe's list order. Maps keep insertion order, so this is the reverse of it. */
export function newestFirst<T>(values: Iterable<T>, keep: (value: T) => boolean = () => true): T[] {
  const out: T[] = [];
  for (const value of values) if (keep(value)) out.push(value);
  return out.reverse();
}

/**
 * Stripe's range filter on a timestamp (`created[gte]=…` or `created=…`). Returns a predicate;
 * an absent filter keeps everything.
 */
export function readRange(params: Params, name: string): (value: number) => boolean {
  const raw = params[name];
  if (raw === undefined || raw === '') return () => true;
  if (typeof raw !== 'object' || raw === null) {
    const exact = readInt(params, name) as number;
    return (value) => value === exact;
  }
  const range = raw as Params;
  const gt = readInt(range, 'gt');
  const gte = readInt(range, 'gte');
  const lt = readInt(range, 'lt');
  const lte = readInt(range, 'lte');
  return (value) =>
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte);
}
