// What the two fleet benchmarks share: an embedded Postgres with a migrated, seeded database, the
// control plane as a child process sized for the fleet through its environment, the fleet in this
// process, and probes of a process's CPU, memory and sockets read from /proc (Linux only).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { createPool, type Db, migrate } from '../control-plane/index.ts';
import { seedOrg, seedResource } from '../control-plane/src/dataplane/testing.ts';
import {
  type ControlPlaneProcess,
  createEmptyDatabase,
  type StartedPostgres,
  startControlPlaneProcess,
  startPostgres,
} from '../harness/env/index.ts';
import { type Fleet, type FleetOptions, startFleet } from '../simulators/fleet/index.ts';
import { round } from './support.ts';

/** One answer the fleet got from the gateway: `route` is the path without its query. */
export interface GatewayAnswer {
  request: ClientRequest;
  response: IncomingMessage;
  route: string;
}

/**
 * Every answer an http client of this process gets, from node:http's diagnostics channel: counted
 * by method, route and status, and handed to `onAnswer` listeners (no polling, no wrapping).
 */
export class GatewayTraffic {
  counts = new Map<string, number>();
  private readonly listeners = new Set<(answer: GatewayAnswer) => void>();

  constructor() {
    subscribe('http.client.response.finish', (message) => {
      const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
      const route = request.path.split('?')[0]!;
      const key = `${request.method} ${route} ${response.statusCode}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      for (const listener of this.listeners) listener({ request, response, route });
    });
  }

  onAnswer(listener: (answer: GatewayAnswer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The counts since the last call, as JSON; starts counting afresh. */
  take(): Record<string, number> {
    const counts = Object.fromEntries(this.counts);
    this.counts = new Map();
    return counts;
  }

  get requests(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }
}

const adminToken = 'bench-fleet-admin-token-0123456789';

export interface BenchEnvironmentOptions {
  /** Database name. */
  name: string;
  cells: string[];
  /** At least 1: an agent's first status report (of the snapshot) is how the start counts it hydrated. */
  resourcesPerCell: number;
  /** The control plane's sizing (see control-plane/src/config.ts), over the bench's defaults. */
  controlPlaneEnv: Record<string, string>;
  traffic: GatewayTraffic;
}

export interface BenchEnvironment {
  readonly postgres: StartedPostgres;
  /** The bench's own pool, for changes made in SQL as an operator would. */
  readonly db: Db;
  readonly databaseUrl: string;
  readonly orgId: string;
  readonly resources: Map<string, string[]>;
  readonly controlPlane: ControlPlaneProcess;
  /**
   * Starts `agents` agents over the cells, pinned to the control plane's key, with bootstrap tokens
   * minted ahead through the admin API. A new agent is admitted only while fewer than `inFlight`
   * are between their start and their first accepted status report (hydrated): a start-up storm
   * would time out registrations, and a registration that times out leaves its token used.
   */
  startFleet(
    options: Omit<FleetOptions, 'url' | 'cells' | 'adminToken' | 'agentsPerCell' | 'bootstrapToken'> & {
      agents: number;
      inFlight: number;
      /** Bound of the whole start (every agent admitted). */
      timeoutMs: number;
    },
  ): Promise<Fleet>;
  /** CPU seconds the embedded server (postmaster and backends) has used so far; 0 for DATABASE_URL. */
  postgresCpuSeconds(): number;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startBenchEnvironment(options: BenchEnvironmentOptions): Promise<BenchEnvironment> {
  const postgres = await startPostgres();
  let db: Db | undefined;
  let controlPlane: ControlPlaneProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      await controlPlane?.stop(10_000);
      await db?.end();
      await postgres.stop();
    })();
    return stopping;
  };
  // Ctrl-C would skip `await using`: the control plane and Postgres must not outlive the bench
  const interrupted = () => {
    process.stderr.write('interrupted: stopping the control plane and Postgres\n');
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const databaseUrl = await createEmptyDatabase(postgres, options.name);
    await migrate(databaseUrl);
    db = createPool(databaseUrl, 4);
    const orgId = await seedOrg(db, options.cells);
    const resources = new Map<string, string[]>();
    for (const cell of options.cells) {
      const ids: string[] = [];
      for (let i = 0; i < options.resourcesPerCell; i++) ids.push(await seedResource(db, orgId, cell));
      resources.set(cell, ids);
    }
    const keys = generateKeyPairSync('ed25519');
    const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    controlPlane = await startControlPlaneProcess({
      env: {
        DATABASE_URL: databaseUrl,
        // never fetched: no request carries a user token
        AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
        AUTH_ISSUER: 'http://127.0.0.1:9/',
        AUTH_AUDIENCE: 'planewright',
        SECRETS_KEK: randomBytes(32).toString('base64'),
        ADMIN_TOKEN: adminToken,
        EVENT_SIGNING_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        CELLS: options.cells.map((cell) => `${cell}:100000`).join(','),
        LOG_LEVEL: 'warn',
        ...options.controlPlaneEnv,
      },
    });
    const started = controlPlane;
    const bench = db;
    return {
      postgres,
      db: bench,
      databaseUrl,
      orgId,
      resources,
      controlPlane: started,
      startFleet: async ({ agents, inFlight, timeoutMs, ...fleet }) => {
        const { cells } = options;
        const startDeadline = performance.now() + timeoutMs;
        const agentsPerCell = Math.ceil(agents / cells.length);
        const tokens = await mintTokens(started.url, cells, agentsPerCell);
        let begun = 0;
        let hydrated = 0;
        const stopCounting = options.traffic.onAnswer(({ route, response }) => {
          if (route === '/v1/agent/status' && response.statusCode === 200) hydrated += 1;
        });
        try {
          return await startFleet({
            ...fleet,
            url: started.url,
            cells,
            agentsPerCell,
            agent: { pinnedPublicKeyPems: [publicKeyPem], ...fleet.agent },
            bootstrapToken: async (cell, index) => {
              // bounded per agent, so agents that cannot hydrate (429s, a cell without resources) never
              // stall the start, and as a whole: the fleet then stops and the error says how far it got
              const deadline = Math.min(performance.now() + 5_000, startDeadline);
              while (begun - hydrated >= inFlight && performance.now() < deadline) await sleep(5);
              if (performance.now() >= startDeadline)
                throw new Error(
                  `PW_BENCH_FLEET_START_TIMEOUT: ${hydrated} of ${agents} agents hydrated and ${begun} started after ${Math.round(timeoutMs / 1000)} s; see gatewayResponses and the fleet's errorsByKind`,
                );
              begun += 1;
              return tokens.get(cell)![index]!;
            },
          });
        } finally {
          stopCounting();
        }
      },
      postgresCpuSeconds: () => postgresCpuSeconds(postgres),
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `perCell` bootstrap tokens per cell, minted through the admin API, eight at a time. */
async function mintTokens(url: string, cells: string[], perCell: number): Promise<Map<string, string[]>> {
  const tokens = new Map(cells.map((cell) => [cell, [] as string[]]));
  const mintOne = async (cell: string, index: number) => {
    const response = await fetch(`${url}/v1/admin/cells/${cell}/bootstrap-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status !== 201) throw new Error(`minting a bootstrap token answered ${response.status}`);
    tokens.get(cell)![index] = ((await response.json()) as { token: string }).token;
  };
  const all = cells.flatMap((cell) => Array.from({ length: perCell }, (_, index) => [cell, index] as const));
  for (let i = 0; i < all.length; i += 8)
    await Promise.all(all.slice(i, i + 8).map(([c, n]) => mintOne(c, n)));
  return tokens;
}

/**
 * CPU seconds the embedded server has used: the postmaster with the backends it has reaped, and the
 * backends alive now (a backend that ends within a measurement still counts, once reaped).
 */
function postgresCpuSeconds(postgres: StartedPostgres): number {
  if (!postgres.dataDirectory) return 0;
  try {
    const postmaster = Number(
      readFileSync(join(postgres.dataDirectory, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    let seconds = cpuSeconds(postmaster, { reapedChildren: true });
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (statFields(Number(entry))[1] === String(postmaster)) seconds += cpuSeconds(Number(entry));
      } catch {}
    }
    return seconds;
  } catch {
    return 0;
  }
}

/** /proc/<pid>/stat after the command name: [state, ppid, …]; utime, stime, cutime, cstime at 11–14. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const ticksPerSecond = 100;

/** CPU seconds (user + system) a process has used so far, with its reaped children's if asked; 0 if gone. */
export function cpuSeconds(pid: number, options: { reapedChildren?: boolean } = {}): number {
  try {
    const fields = statFields(pid).slice(11, options.reapedChildren ? 15 : 13);
    return fields.reduce((sum, ticks) => sum + Number(ticks), 0) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** Measures the CPU used from now until `end()` (`cpu` gives CPU seconds so far), as percent of one core. */
export function cpuMeter(cpu: () => number) {
  const startedAt = performance.now();
  const before = cpu();
  return {
    end(): number {
      const seconds = (performance.now() - startedAt) / 1000;
      return Math.round(((cpu() - before) / seconds) * 100);
    },
  };
}

/**
 * What the control plane's database sessions are doing, sampled from pg_stat_activity every 50 ms
 * on a connection of its own: the mean number of sessions per (wait, state, statement) over the
 * samples, the busiest first. Shows where the control plane's pool goes (lock waiters, say).
 */
export function sampleDatabaseSessions(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  const totals = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ what: string; sessions: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') || ' ' || state || ' '
                || left(regexp_replace(query, '\\s+', ' ', 'g'), 48) AS what, count(*)::int AS sessions
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
            AND query NOT LIKE 'LISTEN%'
          GROUP BY 1`,
      );
      samples += 1;
      for (const row of rows) totals.set(row.what, (totals.get(row.what) ?? 0) + row.sessions);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop.finally(() => client.end());
      const mean = [...totals]
        .map(([what, total]) => [what, round(total / Math.max(1, samples))] as const)
        .sort((a, b) => b[1] - a[1]);
      return { samples, meanSessions: Object.fromEntries(mean.slice(0, 8)) };
    },
  };
}

/** Resident memory of a process in MiB, and its peak. */
export function residentMiB(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: mib(kib('VmRSS') * 1024), peakMiB: mib(kib('VmHWM') * 1024) };
}

/** Open file descriptors of a process, and how many of them are sockets. */
export function openFiles(pid: number): { files: number; sockets: number } {
  const folder = `/proc/${pid}/fd`;
  let files = 0;
  let sockets = 0;
  for (const fd of readdirSync(folder)) {
    files += 1;
    try {
      if (readlinkSync(`${folder}/${fd}`).startsWith('socket:')) sockets += 1;
    } catch {}
  }
  return { files, sockets };
}

export const mib = (bytes: number) => Math.round((bytes / 1024 ** 2) * 10) / 10;

/** The process's soft limit of open files (`ulimit -n`). */
export function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Number.NaN);
}

/** A full collection; works without --expose-gc too (the flag is then set at run time). */
export function collectGarbage(): void {
  let gc: (() => void) | undefined = globalThis.gc;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  // twice: finalizers of the first pass (sockets, timers) free more in the second
  gc();
  gc();
}

/** Polls `check` every `intervalMs` until it is true; false at the deadline. */
export async function waitUntil(check: () => boolean, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}

export function loadAverage(): number[] {
  return loadavg().map((load) => Math.round(load * 100) / 100);
}
