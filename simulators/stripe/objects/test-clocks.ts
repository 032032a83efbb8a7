import { invalidRequest, invalidState, noSuch } from '../errors.ts';
import { newestFirst, paginate } from '../pagination.ts';
import { type Params, readInt, readNullableString } from '../params.ts';
import { copy, emit, nowFor, type RequestContext, refId, type Sim } from '../store.ts';
import { daySeconds } from '../time.ts';
import { advanceLimit, runDue } from './billing-cycle.ts';
import type { DeletedObject, TestClock } from './types.ts';

export function requireTestClock(sim: Sim, id: string, param = 'id'): TestClock {
  const clock = sim.testClocks.get(id);
  if (!clock) throw noSuch('test_clock', id, param);
  return clock;
}

export function createTestClock(sim: Sim, params: Params, request?: RequestContext): TestClock {
  const frozenTime = readInt(params, 'frozen_time', true);
  const created = nowFor(sim, null);
  const clock: TestClock = {
    id: sim.ids.next('clock'),
    object: 'test_helpers.test_clock',
    created,
    // Stripe removes a test clock and everything on it 30 days after it was made
    deletes_after: created + 30 * daySeconds,
    frozen_time: frozenTime,
    livemode: false,
    name: readNullableString(params, 'name') ?? null,
    status: 'ready',
    status_details: {},
  };
  sim.testClocks.set(clock.id, clock);
  emit(sim, 'test_helpers.test_clock.created', clock, request);
  return clock;
}

/**
 * `POST /v1/test_helpers/test_clocks/:id/advance`: runs everything that time brings for the clock's
 * objects, in time order (trial warnings and ends, renewals, invoice payments and retries), then
 * stops at `frozen_time`. The work is done before this returns; the answer shows the clock as
 * `advancing`, as Stripe's does, and a retrieve shows it `ready`, so clients that poll work unchanged.
 */
export function advanceTestClock(sim: Sim, id: string, params: Params, request?: RequestContext): TestClock {
  const clock = requireTestClock(sim, id);
  const target = readInt(params, 'frozen_time', true);
  if (clock.status !== 'ready')
    throw invalidState(`The test clock is ${clock.status}; wait until it is ready.`);
  if (target <= clock.frozen_time) {
    throw invalidRequest(
      'Cannot advance a test clock to a time before or equal to its current frozen time.',
      'frozen_time',
    );
  }
  const limit = advanceLimit(sim, clock.id, clock.frozen_time);
  if (target > limit.at) {
    throw invalidRequest(
      limit.bySubscription
        ? `Cannot advance a test clock more than two intervals of the shortest subscription interval on it: frozen_time must be at most ${limit.at}.`
        : `Cannot advance a test clock with no subscriptions more than two years: frozen_time must be at most ${limit.at}.`,
      'frozen_time',
    );
  }
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } };
  emit(sim, 'test_helpers.test_clock.advancing', clock, request);
  const answer = copy(clock);
  try {
    runDue(sim, clock.id, target, (at) => {
      clock.frozen_time = at;
    });
  } catch (error) {
    clock.status = 'internal_failure';
    emit(sim, 'test_helpers.test_clock.internal_failure', clock, request);
    throw error;
  }
  clock.frozen_time = target;
  clock.status = 'ready';
  clock.status_details = {};
  emit(sim, 'test_helpers.test_clock.ready', clock, request);
  return answer;
}

/** Deletes the clock and every object on it (its customers and what they own), as Stripe does. */
export function deleteTestClock(sim: Sim, id: string, request?: RequestContext): DeletedObject {
  const clock = requireTestClock(sim, id);
  const customers = new Set<string>();
  for (const customer of sim.customers.values()) if (customer.test_clock === id) customers.add(customer.id);
  const owned = (value: { customer: unknown }) => customers.has(refId(value.customer as string) as string);
  for (const [key, sub] of sim.subscriptions) if (owned(sub)) sim.subscriptions.delete(key);
  for (const [key, invoice] of sim.invoices) if (owned(invoice)) sim.invoices.delete(key);
  for (const [key, intent] of sim.paymentIntents) {
    if (intent.customer !== null && owned(intent)) {
      sim.paymentIntents.delete(key);
      sim.paymentIntentInvoices.delete(key);
    }
  }
  for (const [key, pm] of sim.paymentMethods) {
    if (pm.customer !== null && owned(pm)) {
      sim.paymentMethods.delete(key);
      sim.cardProfiles.delete(key);
    }
  }
  for (const key of customers) {
    sim.customers.delete(key);
    sim.deleted.set(key, 'customer');
  }
  sim.testClocks.delete(id);
  emit(sim, 'test_helpers.test_clock.deleted', clock, request);
  return { id, object: 'test_helpers.test_clock', deleted: true };
}

export function listTestClocks(sim: Sim, params: Params) {
  return paginate(newestFirst(sim.testClocks.values()), params, '/v1/test_helpers/test_clocks', 'test_clock');
}
