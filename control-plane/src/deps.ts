import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/pool.ts';
import type { FlowEngine } from './flows/engine.ts';
import type { Metrics } from './telemetry/metrics.ts';

/** Everything the express app needs, built by `server.ts` (or a test) and handed to `createApp`. */
export interface AppDeps {
  config: Config;
  db: Db;
  jwks: JWTVerifyGetKey;
  logger: Logger;
  metrics: Metrics;
  flows: FlowEngine;
  /** True once SIGTERM arrived: /readyz answers 503 so the load balancer stops sending traffic. */
  isShuttingDown: () => boolean;
}
