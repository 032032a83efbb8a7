// The fleet simulator: data-plane agents that speak the agent gateway's documented protocol, and a
// runner that holds many of them in one process. It never imports the control plane (DESIGN.md).

export {
  type AgentCredentials,
  type AgentOptions,
  type AgentState,
  type AgentStats,
  FleetAgent,
  SnapshotRefused,
} from './agent.ts';
export { Backoff, type BackoffOptions, type BackoffStrategy, backoffStrategies } from './backoff.ts';
// the gateway's HTTP API, typed: the agent's only way to the control plane (and the Pact consumer)
export {
  type ApplyErrorClass,
  type ApplyErrorReport,
  type CallOptions,
  type ControlPlaneKey,
  type EventPage,
  GatewayClient,
  type GatewayClientOptions,
  GatewayProtocolError,
  NetworkError,
  type NotModified,
  type RegisteredAgent,
  type RegisterRequest,
  type SealedSecret,
  type SignedEventEnvelope,
  type Snapshot,
  type SnapshotEntry,
  type SnapshotResult,
  type StatusOutcome,
  type StatusReport,
  type StatusResults,
  type X25519PublicJwk,
} from './client.ts';
// faults of one agent, injected by hand or through the runner
export {
  type ApplyErrorFault,
  type CrashFault,
  type DriftFault,
  describeFault,
  type Fault,
  type FaultHandle,
  type FaultJournalEntry,
  type FaultKind,
  type HangFault,
  type PartitionFault,
  type SlowApplyFault,
} from './faults.ts';
export { HttpError } from './http.ts';
export { HeldSecret, LocalDataPlane, type LocalResource } from './local.ts';
export {
  type Fleet,
  type FleetCounters,
  type FleetFaultHandle,
  type FleetInjectOptions,
  type FleetOptions,
  startFleet,
} from './runner.ts';
// secrets sealed to an agent (X25519 + HKDF + AES-256-GCM, signed by the control plane)
export {
  type EncryptionKeyJwk,
  encryptionPublicJwk,
  generateEncryptionKey,
  type OpenContext,
  type OpenedSecret,
  openSealedSecret,
  type SecretRejection,
} from './secrets.ts';
export {
  type AgentEvent,
  type DesiredResource,
  pinKeys,
  type Rejection,
  type SnapshotToVerify,
  type Verdict,
  verifyEvent,
  verifySnapshot,
} from './verify.ts';
