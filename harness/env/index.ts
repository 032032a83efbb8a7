// Environments: the pieces the harness starts and stops.

// the control plane as a child process
export {
  type ControlPlaneExit,
  type ControlPlaneProcess,
  type ControlPlaneProcessOptions,
  serverEntry,
  startControlPlaneProcess,
} from './control-plane-process.ts';
// a development stand-in for the auth provider
export { type DevAuth, startDevAuth } from './dev-auth.ts';
// a whole environment: Postgres, simulators, the control plane, a fleet
export {
  type Environment,
  type EnvironmentOptions,
  type EnvironmentUser,
  type SimulatorName,
  simulatorNames,
  startEnvironment,
} from './environment.ts';
// Postgres: embedded, or DATABASE_URL's
export {
  cloneDatabase,
  createEmptyDatabase,
  dropDatabase,
  freePort,
  type PostgresOptions,
  type StartedPostgres,
  startPostgres,
  stopPostgres,
} from './postgres.ts';
