import {
  advanceTestClock,
  createTestClock,
  deleteTestClock,
  listTestClocks,
  requireTestClock,
} from '../objects/test-clocks.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  requireWebhookEndpoint,
  updateWebhookEndpoint,
} from '../objects/webhook-endpoints.ts';
import type { Params } from '../params.ts';
import type { CurrentSim, Render } from '../state.ts';
import type { RequestContext } from '../store.ts';

/** Events, webhook endpoints and test clocks. */
export function platformApi(sim: CurrentSim, render: Render) {
  return {
    events: {
      retrieve: (id: string, params: Params = {}) => render(sim().events.retrieve(id), params),
      list: (params: Params = {}) => render(sim().events.list(params), params),
    },
    webhookEndpoints: {
      create: (params: Params = {}) => render(createWebhookEndpoint(sim(), params), params),
      retrieve: (id: string, params: Params = {}) => render(requireWebhookEndpoint(sim(), id), params),
      update: (id: string, params: Params = {}) => render(updateWebhookEndpoint(sim(), id, params), params),
      del: (id: string) => render(deleteWebhookEndpoint(sim(), id)),
      list: (params: Params = {}) => render(listWebhookEndpoints(sim(), params), params),
    },
    testClocks: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createTestClock(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(requireTestClock(sim(), id), params),
      /** `POST /v1/test_helpers/test_clocks/:id/advance` with `frozen_time`. */
      advance: (id: string, params: Params = {}, request?: RequestContext) =>
        render(advanceTestClock(sim(), id, params, request), params),
      del: (id: string, request?: RequestContext) => render(deleteTestClock(sim(), id, request)),
      list: (params: Params = {}) => render(listTestClocks(sim(), params), params),
    },
  };
}
