import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { KeyEncryptionKey } from './crypto/envelope.ts';
import type { OutboxListener } from './dataplane/outbox-listener.ts';
import type { ConcurrencyLimit, TokenBuckets } from './dataplane/rate-limit.ts';
import type { EventSigner } from './dataplane/signing.ts';
import type { SnapshotCache } from './dataplane/snapshot-cache.ts';
import type { Db } from './db/pool.ts';
import type { FlowEngine } from './flows/engine.ts';
import type { Metrics } from './telemetry/metrics.ts';
import type { Vendors } from './vendors/index.ts';

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
  /** The agent gateway's storm protection: token buckets per agent, across agents and for
   * registrations, and a bound on snapshots built at once. */
  agentLimits: {
    perAgent: TokenBuckets;
    global: TokenBuckets;
    register: TokenBuckets;
    snapshots: ConcurrencyLimit;
  };
  /** The last snapshot built per cell, served while its ETag is current. */
  snapshotCache: SnapshotCache;
  /** Opens customer secrets for sealing to agents. */
  kek: KeyEncryptionKey;
  /** The vendors' SDK clients (Stripe, Salesforce, the auth provider, email, SMS); absent when not configured. */
  vendors: Vendors;
  /** True once SIGTERM arrived: /readyz answers 503 so the load balancer stops sending traffic. */
  isShuttingDown: () => boolean;
}
