// How a child process gets the preload: the flags for `spawn(process.execPath, [...execArgv, entry])`
// and the variables for its environment. The targets are checked here, in the parent, so a mistake
// fails before anything starts.
import { fileURLToPath } from 'node:url';
import {
  type InterceptTargets,
  interceptVariable,
  logLevelVariable,
  resolveInterceptConfig,
  statsVariable,
} from './config.ts';

/** The preload's path, for `node --import <preloadPath>`. */
export const preloadPath = fileURLToPath(new URL('./preload.ts', import.meta.url));

export interface InterceptArgsOptions {
  /** The preload's log level on the child's stderr; `debug` logs each interception. Default: the child's own `PLANEWRIGHT_INTERCEPT_LOG_LEVEL`, else `info`. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Write the counters as a JSON line on stderr when the child exits. Default false. */
  stats?: boolean;
}

export interface InterceptArgs {
  /** Node flags to put before the entry script. */
  execArgv: string[];
  /** Variables to add to the child's environment. */
  env: Record<string, string>;
}

/**
 * The flags and environment that make a Node child process route the vendors' hosts to the
 * simulators. Throws `PW_INTERCEPT_BAD_CONFIG` when a target is not a usable URL.
 * @example
 *   const { execArgv, env } = interceptArgs({ stripe: stripeSim.url, notify: notifySim.url });
 *   spawn(process.execPath, [...execArgv, serverEntry], { env: { ...process.env, ...env } });
 */
export function interceptArgs(targets: InterceptTargets, options: InterceptArgsOptions = {}): InterceptArgs {
  resolveInterceptConfig(targets, 'targets');
  const env: Record<string, string> = { [interceptVariable]: JSON.stringify(targets) };
  if (options.logLevel) env[logLevelVariable] = options.logLevel;
  if (options.stats) env[statsVariable] = '1';
  return { execArgv: ['--import', preloadPath], env };
}
