import type { Api } from '../route.ts';
import { registerOrgRoutes } from './orgs.ts';

/** Every /v1 route; each module registers its paths, validation and OpenAPI description at once. */
export function registerRoutes(api: Api): void {
  registerOrgRoutes(api);
}
