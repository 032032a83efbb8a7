import type { Server, ServerResponse } from 'node:http';
import pino from 'pino';
import { createApp } from './app.ts';
import { createJwksKeyGetter } from './auth/authenticate.ts';
import type { Config } from './config.ts';
import { kekFromConfig } from './crypto/envelope.ts';
import { registerDataPlaneGauges } from './dataplane/metrics.ts';
import { OutboxListener } from './dataplane/outbox-listener.ts';
import { startOutboxPruner } from './dataplane/prune.ts';
import { ConcurrencyLimit, TokenBuckets } from './dataplane/rate-limit.ts';
import { countReconcilePass, reconcileOptions, startReconciler } from './dataplane/reconciler.ts';
import { type EventSigner, eventSignerFromConfig } from './dataplane/signing.ts';
import { SnapshotCache } from './dataplane/snapshot-cache.ts';
import { createPool } from './db/pool.ts';
import type { AppDeps } from './deps.ts';
import { flowDefinitions } from './flows/definitions/index.ts';
import { FlowEngine } from './flows/engine.ts';
import { registerFlowGauges } from './flows/metrics.ts';
import { createMetrics } from './telemetry/metrics.ts';
import { createVendors, type Vendors } from './vendors/index.ts';

export interface StartedControlPlane {
  /** `http://HOST:PORT` the API listens on. */
  url: string;
  deps: AppDeps;
  /** Signs data-plane events; agents pin its public key. */
  eventSigner: EventSigner;
  server: Server;
  /** Stops taking requests, finishes those in flight and the running flow steps, then closes the pool. */
  stop(): Promise<void>;
}

/** Wires the control plane from a validated config: pool, metrics, flow engine and the express app. */
export function createControlPlane(
  config: Config,
  options: {
    logger?: pino.Logger /** Instead of the SDK clients config.ts describes (tests). */;
    vendors?: Vendors;
  } = {},
) {
  const logger =
    options.logger ?? pino({ level: config.LOG_LEVEL, base: { service: config.OTEL_SERVICE_NAME } });
  const db = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  const metrics = createMetrics();
  const vendors = options.vendors ?? createVendors(config);
  const eventSigner = eventSignerFromConfig(config);
  if (eventSigner.generated) {
    logger.info(
      { kid: eventSigner.kid },
      'test mode: generated an event-signing key; set EVENT_SIGNING_KEY for agents to pin',
    );
  }
  const flows = new FlowEngine({
    db,
    databaseUrl: config.DATABASE_URL,
    logger,
    metrics,
    definitions: flowDefinitions(config, vendors),
    concurrency: config.FLOW_CONCURRENCY,
    leaseMs: config.FLOW_LEASE_MS,
    maxAttempts: config.FLOW_MAX_ATTEMPTS,
    retryBaseMs: config.FLOW_RETRY_BASE_MS,
    retryMaxMs: config.FLOW_RETRY_MAX_MS,
    sweepMs: config.FLOW_SWEEP_MS,
  });
  registerFlowGauges(metrics, db, config);
  const outboxListener = new OutboxListener({
    databaseUrl: config.DATABASE_URL,
    logger,
    maxWaiters: config.AGENT_MAX_WAITERS,
  });
  registerDataPlaneGauges(metrics, db, config, outboxListener);
  let shuttingDown = false;
  const deps: AppDeps = {
    config,
    db,
    jwks: createJwksKeyGetter(config),
    logger,
    metrics,
    flows,
    eventSigner,
    outboxListener,
    agentLimits: {
      perAgent: new TokenBuckets({
        ratePerSec: config.AGENT_RATE_LIMIT_PER_SEC,
        burst: config.AGENT_RATE_LIMIT_BURST,
      }),
      global: new TokenBuckets({
        ratePerSec: config.AGENT_GLOBAL_RATE_LIMIT_PER_SEC,
        burst: Math.max(1, Math.ceil(config.AGENT_GLOBAL_RATE_LIMIT_PER_SEC)),
      }),
      register: new TokenBuckets({
        ratePerSec: config.AGENT_REGISTER_RATE_LIMIT_PER_SEC,
        burst: Math.max(1, Math.ceil(config.AGENT_REGISTER_RATE_LIMIT_PER_SEC)),
      }),
      snapshots: new ConcurrencyLimit(config.AGENT_SNAPSHOT_CONCURRENCY),
    },
    snapshotCache: new SnapshotCache(db),
    kek: kekFromConfig(config),
    isShuttingDown: () => shuttingDown,
    vendors,
  };
  const app = createApp(deps);

  async function start(): Promise<StartedControlPlane> {
    await syncCells(deps);
    if (config.FLOW_WORKER_ENABLED) await flows.start();
    await outboxListener.start();
    const server = app.listen(config.PORT, config.HOST);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
    } catch (error) {
      await outboxListener.stop();
      throw error;
    }
    // after listen: a start that fails (port taken) leaves no timer behind
    const outboxPruner = startOutboxPruner({
      db,
      logger,
      intervalMs: config.OUTBOX_PRUNE_MS,
      keepMs: config.OUTBOX_RETENTION_MS,
      keepPerCell: config.OUTBOX_KEEP_PER_CELL,
    });
    const reconciler = startReconciler({
      db,
      logger,
      intervalMs: config.RECONCILE_INTERVAL_MS,
      ...reconcileOptions(config),
      onPass: (result) => countReconcilePass(metrics, result),
    });
    const beginClosingConnections = closeConnectionsAfterResponse(server);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        shuttingDown = true;
        beginClosingConnections();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // waiting long-polls answer now instead of holding the shutdown for up to 30 s
        const listenerStopped = outboxListener.stop();
        server.closeIdleConnections();
        const deadline = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS).unref();
        await Promise.all([
          closed,
          flows.stop(config.SHUTDOWN_TIMEOUT_MS),
          outboxPruner.stop(),
          reconciler.stop(),
          listenerStopped,
        ]);
        clearTimeout(deadline);
        await db.end();
      })();
      return stopping;
    };
    return { url: `http://${config.HOST}:${port}`, deps, eventSigner, server, stop };
  }

  return { app, deps, eventSigner, start };
}

/**
 * Makes every response sent once shutdown began close its connection. server.close() drops only
 * connections idle at that moment; a keep-alive connection whose request finishes later would
 * otherwise hold the process until the client's idle timeout (seconds).
 */
function closeConnectionsAfterResponse(server: Server): () => void {
  const open = new Set<ServerResponse>();
  let closing = false;
  const markClose = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) markClose(res);
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return () => {
    closing = true;
    open.forEach(markClose);
  };
}

/** Cells come from configuration; capacity follows the config, placements already made stay. */
async function syncCells(deps: AppDeps): Promise<void> {
  for (const cell of deps.config.CELLS) {
    await deps.db.query(
      `INSERT INTO cells (id, capacity) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity`,
      [cell.id, cell.capacity],
    );
  }
}
