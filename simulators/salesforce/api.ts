// The REST data API as a table of resources, free of express: one dispatch serves requests that
// come over HTTP and the subrequests of a composite request, so both run the very same handlers.
import { notFound, SalesforceError } from './errors.ts';
import type { SalesforceOrg } from './org.ts';
import type { ApiResponse } from './present.ts';
import type { Session } from './sessions.ts';

/** One call to `/services/data/vXX.X/…`, after authentication and the allowance check. */
export interface ApiRequest {
  method: string;
  /** The path after the version, without a trailing slash: `/sobjects/Account/001…`, '' for the root. */
  path: string;
  query: URLSearchParams;
  /** The JSON body, or undefined when there is none. */
  body: unknown;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** `62.0`, from the URL. */
  apiVersion: string;
  session: Session;
  /** `http://127.0.0.1:PORT`, as the client reached the simulator: for absolute URLs in answers. */
  instanceUrl: string;
}

/** What a handler gets besides the request: the org, and dispatch for requests that hold others. */
export interface DataApi {
  org: SalesforceOrg;
  dispatch(request: ApiRequest): Promise<ApiResponse>;
}

export type DataRouteHandler = (
  request: ApiRequest,
  params: Record<string, string>,
  api: DataApi,
) => ApiResponse | Promise<ApiResponse>;

/** A resource: `pattern` segments starting with `:` are parameters (`/sobjects/:type/:id`). */
export interface DataRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  pattern: string;
  handler: DataRouteHandler;
}

interface CompiledRoute extends DataRoute {
  regex: RegExp;
  names: string[];
}

function compile(route: DataRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .slice(1)
    .map((segment) => {
      if (!segment.startsWith(':')) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(segment.slice(1));
      return '/([^/]+)';
    })
    .join('');
  return { ...route, regex: new RegExp(`^${source}$`, 'i'), names };
}

/**
 * The data API over `routes`, in order (a literal resource such as `/sobjects/:type/describe`
 * comes before `/sobjects/:type/:id`). An unknown resource is 404 NOT_FOUND; a known one with
 * another method is 405 METHOD_NOT_ALLOWED naming the allowed ones, as Salesforce answers.
 */
export function createDataApi(org: SalesforceOrg, routes: DataRoute[]): DataApi {
  const compiled = routes.map(compile);
  const api: DataApi = {
    org,
    async dispatch(request) {
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const allowed: string[] = [];
      for (const route of compiled) {
        const match = route.regex.exec(request.path);
        if (!match) continue;
        if (route.method !== method) {
          allowed.push(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        route.names.forEach((name, i) => {
          params[name] = decodeSegment(match[i + 1]!);
        });
        return route.handler(request, params, api);
      }
      if (allowed.length === 0) throw notFound();
      throw new SalesforceError(405, [
        {
          errorCode: 'METHOD_NOT_ALLOWED',
          message: `HTTP Method '${request.method}' not allowed. Allowed are ${[...new Set(allowed)].join(',')}`,
        },
      ]);
    },
  };
  return api;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // a stray % is taken as written, as a lenient server would
    return segment;
  }
}

/** Splits a data URL (`/services/data/v62.0/query?q=…`) into version segment, path and query. */
export function splitDataUrl(
  url: string,
): { versionSegment: string; path: string; query: URLSearchParams } | undefined {
  const parsed = new URL(url, 'http://salesforce.invalid');
  const match = /^\/services\/data\/([^/]+)(\/.*)?$/.exec(parsed.pathname);
  if (!match) return undefined;
  return {
    versionSegment: match[1]!,
    path: (match[2] ?? '').replace(/\/+$/, ''),
    query: parsed.searchParams,
  };
}
