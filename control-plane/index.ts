// The reference control plane's public surface: the harness and the CLI import only this.

export { createApp } from './src/app.ts';
// configuration and wiring
export { type Config, ConfigError, configSchema, loadConfig } from './src/config.ts';
export { createControlPlane, type StartedControlPlane } from './src/control-plane.ts';
// data plane (the agent gateway of the data-plane issue builds on these)
export { decryptSecret, kekFromConfig, SecretDecryptionError } from './src/crypto/envelope.ts';
export {
  type ObservedStatusReport,
  recordObservedStatus,
  type StatusReportOutcome,
} from './src/dataplane/status.ts';
// database
export { migrate, migrationsDir } from './src/db/migrate.ts';
export { createPool, type Db, withTransaction } from './src/db/pool.ts';
export type { AppDeps } from './src/deps.ts';
// flows
export {
  defineFlow,
  type FlowDefinition,
  PermanentStepError,
  type StepContext,
} from './src/flows/definition.ts';
export { FlowEngine } from './src/flows/engine.ts';
export { signalFlows, startFlow } from './src/flows/start.ts';
