// Walks every route of the OpenAPI document, for the tests that must cover all routes at once
// (tenant isolation, bad input). A route added without a fixture here fails those tests.

export interface RouteRef {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  params: string[];
  hasBody: boolean;
  admin: boolean;
  public: boolean;
  /** Names of the query parameters. */
  query: string[];
}

interface Operation {
  security?: unknown[];
  requestBody?: unknown;
  parameters?: { in: string; name: string }[];
}

export function routesOf(document: { paths: Record<string, Record<string, Operation>> }): RouteRef[] {
  const routes: RouteRef[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      routes.push({
        method: method as RouteRef['method'],
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        hasBody: operation.requestBody !== undefined,
        admin: path.startsWith('/v1/admin/'),
        public: Array.isArray(operation.security) && operation.security.length === 0,
        query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  return routes;
}

export function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no fixture value for path parameter {${name}} in ${path}`);
    return value;
  });
}
