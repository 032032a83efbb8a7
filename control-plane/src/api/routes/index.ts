import { registerDataPlaneAdminRoutes } from '../../dataplane/admin-routes.ts';
import { registerAgentGatewayRoutes } from '../../dataplane/gateway-routes.ts';
import type { Api } from '../route.ts';
import { registerAdminClockRoutes } from './admin-clock.ts';
import { registerAdminDiagnosticRoutes } from './admin-diagnostics.ts';
import { registerAdminFlowRoutes } from './admin-flows.ts';
import { registerAdminVendorRoutes } from './admin-vendors.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerAuditRoutes } from './audit.ts';
import { registerBillingRoutes } from './billing.ts';
import { registerInvitationRoutes } from './invitations.ts';
import { registerOrgRoutes } from './orgs.ts';
import { registerPasswordResetRoutes } from './password-resets.ts';
import { registerResourceRoutes } from './resources.ts';
import { registerSecretRoutes } from './secrets.ts';
import { registerUserRoutes } from './users.ts';

/** Every /v1 route; each module registers its paths, validation and OpenAPI description at once. */
export function registerRoutes(api: Api): void {
  registerOrgRoutes(api);
  registerAdminFlowRoutes(api);
  registerAdminClockRoutes(api);
  registerAdminDiagnosticRoutes(api);
  registerAdminVendorRoutes(api);
  registerUserRoutes(api);
  registerPasswordResetRoutes(api);
  registerSecretRoutes(api);
  registerBillingRoutes(api);
  registerResourceRoutes(api);
  registerInvitationRoutes(api);
  registerApiKeyRoutes(api);
  registerAuditRoutes(api);
  registerAgentGatewayRoutes(api);
  registerDataPlaneAdminRoutes(api);
}
