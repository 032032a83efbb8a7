import type { Api } from '../route.ts';
import { registerAdminClockRoutes } from './admin-clock.ts';
import { registerAdminDiagnosticRoutes } from './admin-diagnostics.ts';
import { registerAdminFlowRoutes } from './admin-flows.ts';
import { registerOrgRoutes } from './orgs.ts';
import { registerUserRoutes } from './users.ts';

/** Every /v1 route; each module registers its paths, validation and OpenAPI description at once. */
export function registerRoutes(api: Api): void {
  registerOrgRoutes(api);
  registerAdminFlowRoutes(api);
  registerAdminClockRoutes(api);
  registerAdminDiagnosticRoutes(api);
  registerUserRoutes(api);
}
