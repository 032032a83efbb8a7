import { invalidRequest, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate } from '../pagination.ts';
import { type Params, readBool, readNullableString, readString, readStringList } from '../params.ts';
import { atomically, nowFor, type Sim } from '../store.ts';
import type { DeletedObject, WebhookEndpoint } from './types.ts';

export function requireWebhookEndpoint(sim: Sim, id: string): WebhookEndpoint {
  const endpoint = sim.webhookEndpoints.get(id);
  if (!endpoint) throw noSuch('webhook endpoint', id);
  return endpoint;
}

function readUrl(params: Params, required: boolean): string | undefined {
  const url = required ? readString(params, 'url', true) : readString(params, 'url');
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw invalidRequest(
      'Invalid URL: URL must be publicly accessible and use http or https.',
      'url',
      'url_invalid',
    );
  }
  return url;
}

function readEvents(params: Params, required: boolean): string[] | undefined {
  const events = readStringList(params, 'enabled_events');
  if (events === undefined) {
    if (required)
      throw invalidRequest('Missing required param: enabled_events.', 'enabled_events', 'parameter_missing');
    return undefined;
  }
  if (events.length === 0)
    throw invalidRequest('enabled_events must list at least one event type, or *.', 'enabled_events');
  for (const [i, type] of events.entries()) {
    if (type !== '*' && !/^[a-z_]+(\.[a-z_]+)+$/.test(type)) {
      throw invalidRequest(`Invalid event type: ${type}`, `enabled_events[${i}]`);
    }
  }
  return events;
}

/** `POST /v1/webhook_endpoints`: the answer alone carries the signing `secret` (`whsec_…`), as in Stripe. */
export function createWebhookEndpoint(sim: Sim, params: Params): WebhookEndpoint {
  const endpoint: WebhookEndpoint = {
    id: sim.ids.next('we'),
    object: 'webhook_endpoint',
    api_version: readString(params, 'api_version') ?? null,
    application: null,
    created: nowFor(sim, null),
    description: readNullableString(params, 'description') ?? null,
    enabled_events: readEvents(params, true) as string[],
    livemode: false,
    metadata: applyMetadata({}, params),
    status: 'enabled',
    url: readUrl(params, true) as string,
  };
  const secret = `whsec_${sim.ids.text(32)}`;
  sim.webhookEndpoints.set(endpoint.id, endpoint);
  sim.webhookSecrets.set(endpoint.id, secret);
  return { ...structuredClone(endpoint), secret };
}

export function updateWebhookEndpoint(sim: Sim, id: string, params: Params): WebhookEndpoint {
  const endpoint = requireWebhookEndpoint(sim, id);
  atomically(endpoint, () => {
    endpoint.url = readUrl(params, false) ?? endpoint.url;
    endpoint.enabled_events = readEvents(params, false) ?? endpoint.enabled_events;
    const description = readNullableString(params, 'description');
    if (description !== undefined) endpoint.description = description;
    const disabled = readBool(params, 'disabled');
    if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
    endpoint.metadata = applyMetadata(endpoint.metadata, params);
  });
  return endpoint;
}

export function deleteWebhookEndpoint(sim: Sim, id: string): DeletedObject {
  requireWebhookEndpoint(sim, id);
  sim.webhookEndpoints.delete(id);
  sim.webhookSecrets.delete(id);
  sim.deliveries.cancelForEndpoint(id);
  return { id, object: 'webhook_endpoint', deleted: true };
}

export function listWebhookEndpoints(sim: Sim, params: Params) {
  return paginate(
    newestFirst(sim.webhookEndpoints.values()),
    params,
    '/v1/webhook_endpoints',
    'webhook_endpoint',
  );
}
