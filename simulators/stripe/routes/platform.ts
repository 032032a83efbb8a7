// Events, webhook endpoints and test clocks (`/v1/test_helpers/test_clocks`, + advance).
import { outboundUrlProblem } from '../../kit/index.ts';
import { invalidRequest } from '../errors.ts';
import type { Params } from '../params.ts';
import type { StripeState } from '../state.ts';
import type { Api } from './api.ts';

export function platformRoutes(
  api: Api,
  stripe: StripeState,
  options: { allowExternalWebhooks: boolean } = { allowExternalWebhooks: false },
): void {
  const { events, webhookEndpoints, testClocks } = stripe;
  api.get('/v1/events', ({ params }) => events.list(params));
  api.get('/v1/events/:id', ({ id, params }) => events.retrieve(id, params));

  // the simulator sends webhooks only to this machine unless allowExternalWebhooks
  const checked = (params: Params) => {
    const url = params.url;
    if (typeof url !== 'string' || !URL.canParse(url)) return params; // the core's own checks answer these
    const problem = outboundUrlProblem(url, { allowExternal: options.allowExternalWebhooks });
    if (problem) throw invalidRequest(`Invalid URL: ${problem}.`, 'url', 'url_invalid');
    return params;
  };
  api.post('/v1/webhook_endpoints', ({ params }) => webhookEndpoints.create(checked(params)));
  api.get('/v1/webhook_endpoints', ({ params }) => webhookEndpoints.list(params));
  api.get('/v1/webhook_endpoints/:id', ({ id, params }) => webhookEndpoints.retrieve(id, params));
  api.post('/v1/webhook_endpoints/:id', ({ id, params }) => webhookEndpoints.update(id, checked(params)));
  api.del('/v1/webhook_endpoints/:id', ({ id }) => webhookEndpoints.del(id));

  const clocks = '/v1/test_helpers/test_clocks';
  api.post(clocks, ({ params, request }) => testClocks.create(params, request));
  api.get(clocks, ({ params }) => testClocks.list(params));
  api.get(`${clocks}/:id`, ({ id, params }) => testClocks.retrieve(id, params));
  api.del(`${clocks}/:id`, ({ id, request }) => testClocks.del(id, request));
  // the advance runs everything the clock's objects would live through before it answers
  api.post(`${clocks}/:id/advance`, ({ id, params, request }) => testClocks.advance(id, params, request));
}
