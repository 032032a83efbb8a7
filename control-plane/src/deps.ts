import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { OutboxListener } from './dataplane/outbox-listener.ts';
import type { ConcurrencyLimit, TokenBuckets } from './dataplane/rate-limit.ts';
import type { EventSigner } from './dataplane/signing.ts';
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
  /** Signs the events the agent gateway serves; agents pin its public key. */
  eventSigner: EventSigner;
  /** Wakes the agents' long-polls when a cell's outbox moves (started and stopped with the server). */
  outboxListener: OutboxListener;
  /** The agent gateway's storm protection: a token bucket per agent, and snapshots built at once. */
  agentLimits: { perAgent: TokenBuckets; snapshots: ConcurrencyLimit };
  /** True once SIGTERM arrived: /readyz answers 503 so the load balancer stops sending traffic. */
  isShuttingDown: () => boolean;
}
