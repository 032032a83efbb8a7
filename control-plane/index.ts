// The reference control plane's public surface: the harness and the CLI import only this.

export { createApp } from './src/app.ts';
// configuration and wiring
export { type Config, ConfigError, configSchema, loadConfig } from './src/config.ts';
export { createControlPlane, type StartedControlPlane } from './src/control-plane.ts';
// data plane (the agent gateway of the data-plane issue builds on these)
export { decryptSecret, kekFromConfig, SecretDecryptionError } from './src/crypto/envelope.ts';
export { type AgentIdentity, createBootstrapToken, registerAgent } from './src/dataplane/agents.ts';
// data plane: change capture (outbox), signed events and the feed agents read
export {
  type CellSnapshot,
  type EventPage,
  maxEventsPerRead,
  readCellHead,
  readEvents,
  readSnapshot,
  type SnapshotRequired,
  snapshotEtag,
} from './src/dataplane/feed.ts';
export {
  OutboxListener,
  type OutboxListenerOptions,
  outboxChannel,
  type WaitOutcome,
} from './src/dataplane/outbox-listener.ts';
export { type PruneOptions, pruneOutbox, startOutboxPruner } from './src/dataplane/prune.ts';
export {
  type ReconcileOptions,
  type ReconcilePassResult,
  reconcileOnce,
} from './src/dataplane/reconciler.ts';
export {
  createEventSigner,
  type EventSigner,
  eventSignerFromConfig,
  generateEventSigningKey,
  parseSigningKey,
  SigningKeyError,
} from './src/dataplane/signing.ts';
export {
  type ObservedStatusReport,
  recordObservedStatus,
  type StatusReportOutcome,
} from './src/dataplane/status.ts';
export {
  setOutboxTraceparent,
  traceparentSetting,
  withOutboxTransaction,
} from './src/dataplane/traceparent.ts';
// the agent's side: node:crypto only, so the fleet simulator may import it without the control plane's deps
export {
  canonicalJson,
  type DesiredPhase,
  type DesiredResource,
  type EventType,
  keyId,
  type OutboxEvent,
  type PinnedKeys,
  pinPublicKeys,
  type SignedEvent,
  type SignedSnapshotFields,
  signingInput,
  snapshotSigningInput,
  type VerifyFailure,
  type VerifyOptions,
  type VerifyResult,
  verifySignedEvent,
  verifySnapshotSignature,
} from './src/dataplane/verify.ts';
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
