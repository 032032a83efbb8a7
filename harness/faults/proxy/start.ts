// Starting a fault proxy in this process: its admin API on 127.0.0.1, the proxies it makes, and
// a close that takes every socket and timer with it.
import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import { PlanewrightError } from '../../errors.ts';
import { listenHost } from './addresses.ts';
import { createFaultProxyApp } from './api.ts';
import { ProxyCollection, type ProxyInput } from './collection.ts';
import { FaultProxyJournal, type FaultProxyJournalDocument } from './journal.ts';
import type { ProxyView } from './proxy.ts';

const count = (max: number) => z.number().int().min(1).max(max);

const optionsSchema = z.strictObject({
  /** Port of the admin API; default 0 (a free port). */
  port: z.number().int().min(0).max(65_535).default(0),
  /** The only host allowed: the fault proxy never listens beyond this machine. */
  host: z.literal(listenHost).default(listenHost),
  /** Seed of every toxicity draw, jitter and slice; default a random one (read it from `seed`). */
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  /** Most proxies at once; default 256. */
  maxProxies: count(10_000).default(256),
  /** Most toxics on one proxy; default 32. */
  maxToxicsPerProxy: count(1_000).default(32),
  /** Most open connections per proxy (more are closed when accepted); default 10,000. */
  maxConnectionsPerProxy: count(1_000_000).default(10_000),
  /** Bytes one toxic may queue per connection and stream before reading pauses; default 256 KiB. */
  stageBufferBytes: count(64 * 1024 * 1024).default(256 * 1024),
  /** How long an upstream has to accept a connection; default 10 s. */
  connectTimeoutMs: count(600_000).default(10_000),
  /** After a toxic closes a connection, how long its sockets may flush; default 1 s. */
  closeGraceMs: count(60_000).default(1_000),
  /** Journal entries kept (the oldest go first); default 100,000. */
  journalLimit: count(10_000_000).default(100_000),
});

export type FaultProxyOptions = z.input<typeof optionsSchema>;

/** A running fault proxy. */
export interface StartedFaultProxy {
  /** The admin API, `http://127.0.0.1:PORT`: give it to `new Toxiproxy(url)`. */
  readonly url: string;
  readonly port: number;
  readonly seed: number;
  /** As POST /proxies; throws a FaultProxyApiError (a PlanewrightError) on bad input. */
  createProxy(input: ProxyInput): Promise<ProxyView>;
  /** As GET /proxies, by name. */
  proxies(): ProxyView[];
  /** As POST /reset: every proxy enabled, every toxic removed. */
  reset(): Promise<void>;
  /** The decisions taken so far (all, or those after `sinceSeq`). */
  journal(sinceSeq?: number): FaultProxyJournalDocument;
  /** Closes the admin API, every proxy and connection, and every timer. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a fault proxy whose API is Toxiproxy's.
 * @example
 *   await using faults = await startFaultProxy({ seed: 7 });
 *   const toxiproxy = new Toxiproxy(faults.url);
 *   const proxy = await toxiproxy.createProxy({ name: 'cp', listen: '127.0.0.1:0', upstream: controlPlaneHost });
 */
export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<StartedFaultProxy> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new PlanewrightError(
      'PW_FAULT_PROXY_BAD_OPTION',
      problems.join('; '),
      'see FaultProxyOptions in harness/faults/proxy/start.ts',
    );
  }
  const config = parsed.data;
  const seed = config.seed ?? randomInt(0, 0xffff_ffff);
  const journal = new FaultProxyJournal({ seed, limit: config.journalLimit });
  const proxies = new ProxyCollection({
    seed,
    journal,
    maxProxies: config.maxProxies,
    limits: {
      maxToxicsPerProxy: config.maxToxicsPerProxy,
      maxConnectionsPerProxy: config.maxConnectionsPerProxy,
      stageBufferBytes: config.stageBufferBytes,
      connectTimeoutMs: config.connectTimeoutMs,
      closeGraceMs: config.closeGraceMs,
    },
  });
  const server = createServer(createFaultProxyApp({ proxies, journal }));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const port = await listen(server, config.port);
  const url = `http://${listenHost}:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await proxies.exclusive(() => proxies.closeAll());
      await serverClosed;
    })();
    return closed;
  };
  return {
    url,
    port,
    seed,
    createProxy: (input) => proxies.exclusive(() => proxies.create(input)),
    proxies: () => proxies.list(),
    reset: () => proxies.exclusive(() => proxies.reset()),
    journal: (sinceSeq) => journal.toJSON(sinceSeq),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PlanewrightError(
              'PW_FAULT_PROXY_PORT_IN_USE',
              `port ${port} is taken`,
              'pass port: 0 for a free one',
            )
          : error,
      );
    };
    server.once('error', failed);
    server.listen(port, listenHost, () => {
      server.off('error', failed).on('error', () => {});
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
