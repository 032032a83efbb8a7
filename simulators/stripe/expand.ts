import { invalidRequest } from './errors.ts';
import type { Sim } from './store.ts';

// Stripe allows expansions four levels deep (`data.latest_invoice.payment_intent.payment_method`)
const maxDepth = 4;

/** The stored object an id names, whatever its type; deleted ones as Stripe shows them. */
function lookup(sim: Sim, id: string): object | undefined {
  const prefix = id.slice(0, id.indexOf('_'));
  const maps: Record<string, Map<string, object>> = {
    cus: sim.customers,
    pm: sim.paymentMethods,
    prod: sim.products,
    price: sim.prices,
    sub: sim.subscriptions,
    in: sim.invoices,
    pi: sim.paymentIntents,
    clock: sim.testClocks,
    we: sim.webhookEndpoints,
  };
  const found = maps[prefix]?.get(id);
  if (found) return found;
  const deletedType = sim.deleted.get(id);
  return deletedType ? { id, object: deletedType, deleted: true } : undefined;
}

function expandPath(sim: Sim, holder: Record<string, unknown>, path: string[]): void {
  const [field, ...rest] = path as [string, ...string[]];
  if (holder.object === 'list' && field === 'data' && Array.isArray(holder.data)) {
    for (const item of holder.data) {
      if (rest.length > 0) expandPath(sim, item as Record<string, unknown>, rest);
    }
    return;
  }
  if (!(field in holder)) {
    throw invalidRequest(`This property cannot be expanded (${field}).`, 'expand');
  }
  let value = holder[field];
  if (typeof value === 'string') {
    const found = lookup(sim, value);
    if (!found) return; // an id of something we do not model (a charge): left as the id
    value = structuredClone(found);
    holder[field] = value;
  }
  if (rest.length > 0 && typeof value === 'object' && value !== null) {
    expandPath(sim, value as Record<string, unknown>, rest);
  }
}

/**
 * Replaces ids by their objects along each `expand[]` path (`customer`, `latest_invoice.payment_intent`,
 * `data.default_payment_method` on lists). Works on a copy the caller owns.
 *
 * @example expand(sim, copy(subscription), ['latest_invoice.payment_intent'])
 */
export function expand<T extends object>(sim: Sim, object: T, paths: readonly string[]): T {
  for (const full of paths) {
    const path = full.split('.');
    if (path.length > maxDepth + (path[0] === 'data' ? 1 : 0)) {
      throw invalidRequest(
        `You cannot expand more than ${maxDepth} levels of a property. Property: ${full}`,
        'expand',
      );
    }
    expandPath(sim, object as Record<string, unknown>, path);
  }
  return object;
}
