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

export const databaseSpec = { engine: 'postgres', version: '16', storageGb: 10 };

/** A valid body for each route that takes one, so that only the tenant check can refuse it. */
export const exampleBodies: Record<string, unknown> = {
  'post /v1/orgs': { name: 'x', slug: 'x-walk' },
  'patch /v1/orgs/{orgId}': { name: 'Renamed' },
  'patch /v1/orgs/{orgId}/members/{userId}': { role: 'member' },
  'post /v1/orgs/{orgId}/secrets': { name: 'walk-secret', value: 'hunter2' },
  'put /v1/orgs/{orgId}/secrets/{secretId}/value': { value: 'rotated' },
  'post /v1/orgs/{orgId}/resources': { kind: 'database', name: 'walk-db', spec: databaseSpec },
  'patch /v1/orgs/{orgId}/resources/{resourceId}': { spec: { ...databaseSpec, storageGb: 20 } },
  'post /v1/orgs/{orgId}/invitations': { email: 'walk@example.test', role: 'member' },
  'post /v1/orgs/{orgId}/api-keys': { name: 'walk', role: 'member' },
  'post /v1/orgs/{orgId}/billing/subscription': { plan: 'pro', paymentMethod: 'pm_card_visa' },
  'put /v1/orgs/{orgId}/billing/plan': { plan: 'pro' },
  'post /v1/orgs/{orgId}/billing/payment-method': { paymentMethod: 'pm_card_visa' },
  // agent routes: not organization-scoped (the tenant walk skips them); the bad-input walk sends
  // these with NUL in every string, so each must hold a string. Bodies without one (the bootstrap
  // token's, the heartbeat's) are left out: NUL could not make them invalid.
  'post /v1/agent/register': { bootstrapToken: 'pwb_walk', name: 'walk-agent' },
  'post /v1/agent/status': {
    reports: [{ resourceId: '00000000-0000-4000-8000-000000000000', observedGeneration: 1, status: {} }],
  },
};

/** `value` with a NUL character inside every string, at any depth. */
export function withNul(value: unknown): unknown {
  if (typeof value === 'string') return `${value}\u0000`;
  if (Array.isArray(value)) return value.map(withNul);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withNul(v)]));
  return value;
}
