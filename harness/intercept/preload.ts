// The preload for a process under test: `node --import <this file> server.js`. It reads
// PLANEWRIGHT_INTERCEPT and, before the application's first line runs, routes the vendors' real
// hosts (api.stripe.com, api.twilio.com, the auth tenant, …) to the simulators, so SDKs with fixed
// hosts and a production configuration work unchanged. See docs/intercept.md.
import { type LevelWithSilent, pino } from 'pino';
import { interceptConfigFromEnv, logLevelVariable, statsVariable } from './config.ts';
import { installInterception } from './install.ts';
import { writeStatsAtExit } from './stats.ts';

const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const requestedLevel = process.env[logLevelVariable]?.trim() || 'info';
if (!levels.includes(requestedLevel)) {
  fail(
    `PW_INTERCEPT_BAD_CONFIG: ${logLevelVariable} is "${requestedLevel}"; use one of ${levels.join(', ')}`,
  );
}
const logger = pino(
  { name: 'planewright-intercept', level: requestedLevel as LevelWithSilent },
  pino.destination({ fd: 2, sync: true }),
);

let config: ReturnType<typeof interceptConfigFromEnv>;
try {
  config = interceptConfigFromEnv();
} catch (error) {
  fail((error as Error).message);
}

if (config) {
  installInterception(config, logger);
  logger.info(
    {
      routes: Object.fromEntries(
        config.routes.map((route) => [route.pattern, route.target?.origin ?? 'passthrough']),
      ),
    },
    'vendor hosts are routed to the simulators',
  );
} else {
  logger.warn(
    'the interception preload is loaded but PLANEWRIGHT_INTERCEPT is empty: nothing is intercepted',
  );
}
if (process.env[statsVariable] === '1') writeStatsAtExit();

function fail(message: string): never {
  // the application has not started: stop before it can reach a real vendor
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
