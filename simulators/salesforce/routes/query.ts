// SOQL resources: `/query?q=`, `/queryAll?q=` (the recycle bin too) and the next pages of a result.
import type { ApiRequest, DataRoute, DataRouteHandler } from '../api.ts';
import { malformedQuery } from '../errors.ts';

/**
 * `Sforce-Query-Options: batchSize=N`. Salesforce takes 200 to 2,000 and treats the number as a
 * hint; the simulator keeps it within those bounds and then honours it exactly, so tests can count pages.
 */
export function batchSizeOf(request: ApiRequest): number | undefined {
  const match = /(?:^|[,;\s])batchSize=(\d+)/i.exec(request.headers['sforce-query-options'] ?? '');
  return match ? Math.min(2000, Math.max(200, Number(match[1]))) : undefined;
}

const query =
  (includeDeleted: boolean): DataRouteHandler =>
  (request, _params, api) => {
    const soql = request.query.get('q');
    if (!soql?.trim()) throw malformedQuery('A query string has to be specified');
    const page = api.org.query(soql, {
      apiVersion: request.apiVersion,
      includeDeleted,
      batchSize: batchSizeOf(request),
    });
    return { status: 200, body: page };
  };

const nextPage: DataRouteHandler = (request, { locator }, api) => ({
  status: 200,
  body: api.org.queryMore(locator!, request.apiVersion, batchSizeOf(request)),
});

export const queryRoutes: DataRoute[] = [
  { method: 'GET', pattern: '/query', handler: query(false) },
  { method: 'GET', pattern: '/queryAll', handler: query(true) },
  { method: 'GET', pattern: '/query/:locator', handler: nextPage },
  { method: 'GET', pattern: '/queryAll/:locator', handler: nextPage },
];
