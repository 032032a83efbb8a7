// The version root (`/services/data/vXX.X/`, the resources it has) and `/limits`.
import type { DataRoute } from '../api.ts';

/** Resources the simulator serves, as the version root lists them. */
const resources = ['sobjects', 'query', 'queryAll', 'composite', 'limits'];

export const resourceRoutes: DataRoute[] = [
  {
    method: 'GET',
    pattern: '',
    handler: (request, _params, api) => {
      const base = `/services/data/v${request.apiVersion}`;
      const { orgId } = api.org.config;
      return {
        status: 200,
        body: {
          ...Object.fromEntries(resources.map((name) => [name, `${base}/${name}`])),
          // jsforce's identity() reads it when the login answer gave none
          identity: `${request.instanceUrl}/id/${orgId}/${request.session.userId}`,
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/limits',
    handler: (_request, _params, api) => ({ status: 200, body: api.org.limits.limitsBody() }),
  },
];
