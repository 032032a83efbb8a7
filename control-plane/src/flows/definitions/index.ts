import type { Config } from '../../config.ts';
import type { Vendors } from '../../vendors/index.ts';
import type { FlowDefinition } from '../definition.ts';
import { createApiKeyFlow } from './create-api-key.ts';
import { deleteUserFlow } from './delete-user.ts';
import { deprovisionResourceFlow } from './deprovision-resource.ts';
import { diagnosticFlow } from './diagnostic.ts';
import { provisionResourceFlow } from './provision-resource.ts';

/** Every flow this control plane runs; the vendor flows call `vendors` (see vendors/index.ts). */
export function flowDefinitions(config: Config, vendors: Vendors = {}): FlowDefinition<never>[] {
  const flows = [deleteUserFlow, createApiKeyFlow] as FlowDefinition<never>[];
  flows.push(
    provisionResourceFlow({
      timeoutMs: config.PROVISION_TIMEOUT_MS,
      internalRetries: config.PROVISION_INTERNAL_RETRIES,
      retryBaseMs: config.PROVISION_RETRY_BASE_MS,
      retryMaxMs: config.FLOW_RETRY_MAX_MS,
    }) as FlowDefinition<never>,
  );
  flows.push(deprovisionResourceFlow({ timeoutMs: config.PROVISION_TIMEOUT_MS }) as FlowDefinition<never>);
  if (config.TEST_MODE) flows.push(diagnosticFlow as FlowDefinition<never>);
  return flows;
}
