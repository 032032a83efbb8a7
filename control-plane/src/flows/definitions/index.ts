import type { Config } from '../../config.ts';
import type { FlowDefinition } from '../definition.ts';

/** Every flow this control plane runs. */
export function flowDefinitions(_config: Config): FlowDefinition<never>[] {
  return [];
}
