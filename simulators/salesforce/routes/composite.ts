// Composite (`/composite`: up to 25 subrequests with references between them) and sObject
// Collections (`/composite/sobjects`: up to 200 records a call, what jsforce uses for arrays).
import {
  type ApiRequest,
  type DataApi,
  type DataRoute,
  type DataRouteHandler,
  splitDataUrl,
} from '../api.ts';
import type { ExecuteSubrequest } from '../composite.ts';
import { jsonParserError, notFound, SalesforceError } from '../errors.ts';
import { apiVersionOf, atLeast } from '../versions.ts';

/**
 * Runs a subrequest through the same dispatch as an HTTP request, as the composite's user. It is
 * not charged to the allowance: a composite request is one call however many it holds.
 */
function subrequestRunner(request: ApiRequest, api: DataApi): ExecuteSubrequest {
  return ({ method, url, body, httpHeaders }) => {
    const parts = splitDataUrl(url);
    const apiVersion = parts && apiVersionOf(parts.versionSegment);
    if (!parts || !apiVersion) throw notFound();
    if (parts.path === '/composite') {
      throw new SalesforceError(400, [
        {
          errorCode: 'INVALID_API_INPUT',
          message: 'A composite request cannot contain another composite request',
        },
      ]);
    }
    const headers = Object.fromEntries(
      Object.entries(httpHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    return api.dispatch({
      ...parts,
      method,
      body,
      headers,
      apiVersion,
      session: request.session,
      instanceUrl: request.instanceUrl,
    });
  };
}

/** Collections arrived in API 42.0 (upsert in 46.0); before that the resource does not exist. */
const since =
  (major: number, handler: DataRouteHandler): DataRouteHandler =>
  (request, params, api) => {
    if (!atLeast(request.apiVersion, major)) throw notFound();
    return handler(request, params, api);
  };

const asUser = (request: ApiRequest) => ({ userId: request.session.userId });
const ok = (body: unknown) => ({ status: 200, body });

/** `{ids, fields}` from a POST body, or `?ids=a,b&fields=Name` on a GET. */
function idsAndFields(request: ApiRequest): { ids: string[]; fields: string[] } {
  const list = (value: unknown, name: string): string[] => {
    if (typeof value === 'string')
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
    throw jsonParserError(`${name}: a list of strings is required`);
  };
  const source = request.method === 'GET' ? Object.fromEntries(request.query) : (request.body ?? {});
  const { ids, fields } = source as { ids?: unknown; fields?: unknown };
  return { ids: list(ids, 'ids'), fields: list(fields, 'fields') };
}

export const compositeRoutes: DataRoute[] = [
  {
    method: 'POST',
    pattern: '/composite',
    handler: async (request, _params, api) =>
      ok(await api.org.composite(request.body, subrequestRunner(request, api))),
  },
  {
    method: 'POST',
    pattern: '/composite/sobjects',
    handler: since(42, (request, _p, api) => ok(api.org.collections.create(request.body, asUser(request)))),
  },
  {
    method: 'PATCH',
    pattern: '/composite/sobjects',
    handler: since(42, (request, _p, api) => ok(api.org.collections.update(request.body, asUser(request)))),
  },
  {
    method: 'DELETE',
    pattern: '/composite/sobjects',
    handler: since(42, (request, _p, api) => {
      const ids = (request.query.get('ids') ?? '').split(',').filter(Boolean);
      const allOrNone = request.query.get('allOrNone') === 'true';
      return ok(api.org.collections.delete(ids, allOrNone, asUser(request)));
    }),
  },
  {
    method: 'GET',
    pattern: '/composite/sobjects/:type',
    handler: since(42, (request, { type }, api) => {
      const { ids, fields } = idsAndFields(request);
      return ok(api.org.collections.retrieve(type!, ids, fields, request.apiVersion));
    }),
  },
  {
    method: 'POST',
    pattern: '/composite/sobjects/:type',
    handler: since(42, (request, { type }, api) => {
      const { ids, fields } = idsAndFields(request);
      return ok(api.org.collections.retrieve(type!, ids, fields, request.apiVersion));
    }),
  },
  {
    method: 'PATCH',
    pattern: '/composite/sobjects/:type/:field',
    handler: since(46, (request, { type, field }, api) =>
      ok(api.org.collections.upsert(type!, field!, request.body, asUser(request))),
    ),
  },
];
