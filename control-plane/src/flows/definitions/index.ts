import type { Config } from '../../config.ts';
import type { FlowDefinition } from '../definition.ts';
import { deleteUserFlow } from './delete-user.ts';
import { diagnosticFlow } from './diagnostic.ts';

/** Every flow this control plane runs. */
export function flowDefinitions(config: Config): FlowDefinition<never>[] {
  const flows = [deleteUserFlow] as FlowDefinition<never>[];
  if (config.TEST_MODE) flows.push(diagnosticFlow as FlowDefinition<never>);
  return flows;
}
