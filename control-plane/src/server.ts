// The control plane's process entry: `node control-plane/src/server.ts`, configured by the
// environment (see config.ts). It only starts what createControlPlane wires, and stops it on
// SIGTERM or SIGINT. Exit codes: 0 after a graceful stop, 1 when start-up or shutdown fails,
// 2 for an invalid configuration.
import pino from 'pino';
import { type Config, ConfigError, loadConfig } from './config.ts';
import type { StartedControlPlane } from './control-plane.ts';
import { startTelemetry, type Telemetry } from './telemetry/sdk.ts';

// A slow shutdown still ends: past its budget plus this margin the process exits 1 anyway.
const shutdownMarginMs = 5_000;

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

function startFailure(error: unknown, config: Config): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return `PW_PORT_IN_USE: port ${config.PORT} on ${config.HOST} is taken; set PORT=0 for a free one`;
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') {
    return `PW_DATABASE_UNREACHABLE: cannot use DATABASE_URL (${(error as Error).message}); check that Postgres runs and the URL names an existing database`;
  }
  return `PW_CONTROL_PLANE_START_FAILED: ${(error as Error).message ?? String(error)}; see the log above`;
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.LOG_LEVEL, base: { service: config.OTEL_SERVICE_NAME } });
  let telemetry: Telemetry | undefined;
  let started: StartedControlPlane;
  try {
    telemetry = await startTelemetry(config);
    // imported only now, so the instrumentation hooks above see express, pg and http load
    const [{ migrate }, { createControlPlane }] = await Promise.all([
      import('./db/migrate.ts'),
      import('./control-plane.ts'),
    ]);
    const applied = await migrate(config.DATABASE_URL);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrated');
    started = await createControlPlane(config, { logger }).start();
  } catch (error) {
    logger.error({ err: error }, 'start-up failed');
    process.stderr.write(`${startFailure(error, config)}\n`);
    await telemetry?.shutdown(1_000);
    process.exit(1);
  }

  // The plain URL line is what a parent process waits for; the JSON line is for log pipelines.
  process.stdout.write(`${started.url}\n`);
  logger.info({ url: started.url, tracing: telemetry?.enabled ?? false, pid: process.pid }, 'listening');

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the terminal's group and a supervisor may signal again:
    // the first signal starts the one bounded shutdown, the others change nothing
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown overran its budget; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + shutdownMarginMs).unref();
    try {
      await started.stop();
      // spans still buffered are flushed, briefly: the budget above is for requests and steps
      await telemetry?.shutdown(2_000);
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await main();
