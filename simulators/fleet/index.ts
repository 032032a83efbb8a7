// The fleet simulator: data-plane agents that speak the agent gateway's documented protocol, and a
// runner that holds many of them in one process. It never imports the control plane (DESIGN.md).

export {
  type AgentCredentials,
  type AgentOptions,
  type AgentState,
  type AgentStats,
  FleetAgent,
} from './agent.ts';
export { Backoff, type BackoffOptions, type BackoffStrategy, backoffStrategies } from './backoff.ts';
export { HttpError } from './http.ts';
export { LocalDataPlane, type LocalResource } from './local.ts';
export { type Fleet, type FleetCounters, type FleetOptions, startFleet } from './runner.ts';
export {
  type AgentEvent,
  type DesiredResource,
  pinKeys,
  type Rejection,
  type Verdict,
  verifyEvent,
} from './verify.ts';
