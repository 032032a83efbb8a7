// Vendor-host interception: route the vendors' real hosts to the simulators inside a process under
// test, with an msw preload configured by the environment. See docs/intercept.md.

// starting a child process with the preload
export { type InterceptArgs, type InterceptArgsOptions, interceptArgs, preloadPath } from './args.ts';
// configuration: the variables, the default hosts, the checks
export {
  defaultVendorHosts,
  type InterceptConfig,
  type InterceptRoute,
  type InterceptTargets,
  interceptConfigFromEnv,
  interceptVariable,
  logLevelVariable,
  resolveInterceptConfig,
  routeFor,
  type SimulatorName,
  simulatorNames,
  statsVariable,
} from './config.ts';
// interception in this process (tests), and what it counted
export { type Interception, installInterception } from './install.ts';
export { type InterceptStats, interceptStats, statsLine } from './stats.ts';
