import { billingFlows } from '../../billing/flows.ts';
import type { Config } from '../../config.ts';
import type { Vendors } from '../../vendors/index.ts';
import type { FlowDefinition } from '../definition.ts';
import { createApiKeyFlow } from './create-api-key.ts';
import { deleteTenantFlow } from './delete-tenant.ts';
import { deleteUserFlow } from './delete-user.ts';
import { deprovisionResourceFlow } from './deprovision-resource.ts';
import { diagnosticFlow } from './diagnostic.ts';
import { acceptInviteFlow, inviteUserFlow } from './invite-user.ts';
import { passwordResetFlow } from './password-reset.ts';
import { provisionResourceFlow } from './provision-resource.ts';

/** Every flow this control plane runs; the vendor flows call `vendors` (see vendors/index.ts). */
export function flowDefinitions(config: Config, vendors: Vendors = {}): FlowDefinition<never>[] {
  const invitations = {
    vendors,
    appUrl: config.APP_URL,
    authClientId: config.AUTH_APP_CLIENT_ID ?? config.AUTH_MANAGEMENT_CLIENT_ID,
  };
  const flows = [
    deleteUserFlow(vendors),
    createApiKeyFlow,
    inviteUserFlow(invitations),
    acceptInviteFlow(invitations),
  ] as FlowDefinition<never>[];
  flows.push(
    provisionResourceFlow({
      timeoutMs: config.PROVISION_TIMEOUT_MS,
      internalRetries: config.PROVISION_INTERNAL_RETRIES,
      retryBaseMs: config.PROVISION_RETRY_BASE_MS,
      retryMaxMs: config.FLOW_RETRY_MAX_MS,
    }) as FlowDefinition<never>,
  );
  flows.push(deprovisionResourceFlow({ timeoutMs: config.PROVISION_TIMEOUT_MS }) as FlowDefinition<never>);
  flows.push(
    deleteTenantFlow({
      vendors,
      retentionMs: config.TENANT_RETENTION_MS,
      dataPlaneTimeoutMs: config.PROVISION_TIMEOUT_MS,
    }) as FlowDefinition<never>,
  );
  flows.push(passwordResetFlow({ vendors, appUrl: config.APP_URL }) as FlowDefinition<never>);
  flows.push(...billingFlows(config, vendors));
  if (config.TEST_MODE) flows.push(diagnosticFlow as FlowDefinition<never>);
  return flows;
}
