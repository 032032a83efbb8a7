// Many agents in one process (issue 5, item 13): they share one keep-alive socket pool, so a storm
// of N agents costs N long-polls on a bounded number of sockets, not N pools. The runner counts
// them, injects faults into a seeded share of them (journaled, for replay), and can persist their
// credentials so a restarted fleet process comes back as the same agents.
import { randomUUID } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../kit/index.ts';
import { type AgentCredentials, type AgentOptions, FleetAgent } from './agent.ts';
import type { BackoffStrategy } from './backoff.ts';
import type { Fault, FaultHandle, FaultJournalEntry } from './faults.ts';
import { requestJson } from './http.ts';

export interface FleetOptions {
  url: string;
  cells: string[];
  agentsPerCell: number;
  strategy?: BackoffStrategy;
  /** Mints each agent's bootstrap token through the admin API (`POST /v1/admin/cells/{cell}/bootstrap-tokens`). */
  adminToken?: string;
  /** Or supplies the tokens itself. */
  bootstrapToken?: (cell: string, index: number) => Promise<string>;
  seed?: number;
  /** Sockets in the shared pool. Default 256. */
  maxSockets?: number;
  /**
   * Agents' credentials, read at start (agents found there reuse them instead of a bootstrap token)
   * and written (JSON, mode 0600) as agents register and at `stop()`. Default: not persisted.
   */
  credentialsFile?: string;
  /** Agents started together before a pause of `startPauseMs`, so thousands do not register in one tick. Default 25. */
  startBatch?: number;
  /** Default 5. */
  startPauseMs?: number;
  /** Passed to every agent (apply time, waits, backoff bounds, pinned keys). */
  agent?: Omit<
    AgentOptions,
    | 'url'
    | 'name'
    | 'bootstrapToken'
    | 'credentials'
    | 'strategy'
    | 'seed'
    | 'httpAgent'
    | 'journal'
    | 'onRegistered'
  >;
}

export interface FleetCounters {
  agents: number;
  connected: number;
  syncing: number;
  inSync: number;
  backingOff: number;
  partitioned: number;
  hung: number;
  crashed: number;
  /** Failed requests, all agents. */
  errors: number;
  /** `http:<status>`, `network:<code>`, `protocol`, `other`. */
  errorsByKind: Record<string, number>;
  /** Events and secrets refused, by reason. */
  rejected: Record<string, number>;
  /** Failed applies, by class (`internal`, `customer`). */
  applyErrors: Record<string, number>;
  restarts: number;
}

export interface FleetInjectOptions {
  /** Share of the chosen cells' agents, in [0, 1] (at least one when > 0). Default 1. */
  share?: number;
  /** Or exactly this many agents. */
  count?: number;
  /** Only agents of these cells. Default all. */
  cells?: string[];
  /** Seed of the choice. Default the fleet's; the same seed and call order choose the same agents. */
  seed?: number;
}

export interface FleetFaultHandle {
  readonly fault: Fault;
  /** Names of the agents that got it. */
  readonly agents: string[];
  readonly handles: FaultHandle[];
  clear(): void;
}

export interface Fleet {
  readonly agents: readonly FleetAgent[];
  /** Every fault injected, ended and cleared, in order. */
  readonly journal: readonly FaultJournalEntry[];
  counters(): FleetCounters;
  /**
   * Polls the counters until `predicate` holds; rejects with the last counters at `timeoutMs`.
   * @example await fleet.waitFor((c) => c.inSync === c.agents, 20_000)
   */
  waitFor(predicate: (counters: FleetCounters) => boolean, timeoutMs: number): Promise<FleetCounters>;
  /** Injects `fault` into a seeded choice of agents. */
  inject(fault: Fault, options?: FleetInjectOptions): FleetFaultHandle;
  /** Writes `credentialsFile` now (it is also written as agents register and at stop). */
  saveCredentials(): Promise<void>;
  stop(): Promise<void>;
}

interface CredentialsFile {
  version: 1;
  agents: Record<string, AgentCredentials>;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const mint =
    options.bootstrapToken ??
    ((cell: string) => mintBootstrapToken(options.url, cell, options.adminToken, httpAgent));
  const agents: FleetAgent[] = [];
  const journal: FaultJournalEntry[] = [];
  const saved = options.credentialsFile ? await readCredentials(options.credentialsFile) : {};
  const store = options.credentialsFile ? new CredentialsStore(options.credentialsFile, agents) : undefined;
  const onRegistered = store ? () => store.schedule() : undefined;
  const batch = Math.max(1, options.startBatch ?? 25);
  try {
    for (const cell of options.cells) {
      for (let index = 0; index < options.agentsPerCell; index++) {
        const name = `${cell}-agent-${index}`;
        const credentials = saved[name];
        const agent = new FleetAgent({
          ...options.agent,
          url: options.url,
          name,
          ...(credentials ? { credentials } : { bootstrapToken: await mint(cell, index) }),
          strategy: options.strategy,
          seed: options.seed,
          httpAgent,
          journal,
          onRegistered,
        });
        agents.push(agent.start());
        if (agents.length % batch === 0) await sleep(options.startPauseMs ?? 5);
      }
    }
  } catch (error) {
    await Promise.all(agents.map((agent) => agent.stop()));
    httpAgent.destroy();
    throw error;
  }
  let injections = 0;
  const counters = () => countFleet(agents);
  return {
    agents,
    journal,
    counters,
    async waitFor(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = counters();
        if (predicate(current)) return current;
        if (Date.now() >= deadline)
          throw new Error(
            `PW_FLEET_WAIT_TIMEOUT: not reached in ${timeoutMs} ms; counters ${JSON.stringify(current)}`,
          );
        await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
      }
    },
    inject(fault, choice = {}) {
      const eligible = choice.cells
        ? agents.filter((agent) =>
            choice.cells!.includes(agent.identity?.cell ?? cellOf(agent.name, options.cells)),
          )
        : agents;
      const wanted =
        choice.count ??
        (choice.share === 0 ? 0 : Math.max(1, Math.round((choice.share ?? 1) * eligible.length)));
      const random = seededRandom(choice.seed ?? options.seed ?? 1, `fleet-inject:${injections++}`);
      const chosen = pick(eligible, Math.min(wanted, eligible.length), random.float);
      const handles = chosen.map((agent) => agent.inject(fault));
      return {
        fault,
        agents: chosen.map((agent) => agent.name),
        handles,
        clear: () => {
          for (const handle of handles) handle.clear();
        },
      };
    },
    saveCredentials: async () => {
      await store?.save();
    },
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
      httpAgent.destroy();
      await store?.save();
    },
  };
}

function countFleet(agents: readonly FleetAgent[]): FleetCounters {
  const counters: FleetCounters = {
    agents: agents.length,
    connected: 0,
    syncing: 0,
    inSync: 0,
    backingOff: 0,
    partitioned: 0,
    hung: 0,
    crashed: 0,
    errors: 0,
    errorsByKind: {},
    rejected: {},
    applyErrors: {},
    restarts: 0,
  };
  const add = (into: Record<string, number>, from: Record<string, number | undefined>) => {
    for (const key in from) into[key] = (into[key] ?? 0) + (from[key] ?? 0);
  };
  for (const agent of agents) {
    // the live stats, not a copy: this runs over thousands of agents every poll
    const stats = agent.stats;
    if (stats.connected) counters.connected += 1;
    if (stats.state === 'syncing' || stats.state === 'starting') counters.syncing += 1;
    if (stats.state === 'inSync') counters.inSync += 1;
    if (stats.state === 'backingOff') counters.backingOff += 1;
    if (stats.partitioned) counters.partitioned += 1;
    if (stats.hung) counters.hung += 1;
    if (stats.crashed) counters.crashed += 1;
    counters.errors += stats.errors;
    counters.restarts += stats.restarts;
    add(counters.errorsByKind, stats.errorsByKind);
    add(counters.rejected, stats.rejected);
    add(counters.applyErrors, stats.applyErrors);
  }
  return counters;
}

/** `count` distinct items, by a partial Fisher–Yates shuffle of a copy. */
function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  for (let index = 0; index < count; index++) {
    const other = index + Math.floor(random() * (pool.length - index));
    [pool[index], pool[other]] = [pool[other]!, pool[index]!];
  }
  return pool.slice(0, count);
}

/** An agent not registered yet has no cell in its credentials: its name says which it was started for. */
function cellOf(name: string, cells: string[]): string {
  return cells.find((cell) => name.startsWith(`${cell}-agent-`)) ?? '';
}

async function readCredentials(file: string): Promise<Record<string, AgentCredentials>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (parsed.version !== 1 || typeof parsed.agents !== 'object' || parsed.agents === null)
      throw new Error();
    return parsed.agents;
  } catch {
    throw new Error(
      `PW_FLEET_BAD_CREDENTIALS_FILE: ${file} is not a fleet credentials file (version 1); delete it to register new agents`,
    );
  }
}

/** Writes the fleet's credentials, debounced, atomically (a temporary file renamed), mode 0600. */
class CredentialsStore {
  private readonly file: string;
  private readonly agents: readonly FleetAgent[];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(file: string, agents: readonly FleetAgent[]) {
    this.file = file;
    this.agents = agents;
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save().catch(() => {});
    }, 200);
    this.timer.unref();
  }

  save(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // one write at a time, in order: the last one holds every agent registered so far
    this.writing = this.writing.catch(() => {}).then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const agents: Record<string, AgentCredentials> = {};
    for (const agent of this.agents) if (agent.identity) agents[agent.name] = agent.identity;
    const content: CredentialsFile = { version: 1, agents };
    // unique: two fleets of one process may share a file
    const temporary = `${this.file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.file);
  }
}

async function mintBootstrapToken(
  url: string,
  cell: string,
  adminToken: string | undefined,
  agent: http.Agent,
) {
  if (!adminToken) throw new Error('startFleet needs adminToken or bootstrapToken()');
  const { body } = await requestJson({
    method: 'POST',
    url: `${url}/v1/admin/cells/${encodeURIComponent(cell)}/bootstrap-tokens`,
    token: adminToken,
    body: {},
    agent,
    signal: AbortSignal.timeout(10_000),
    timeoutMs: 10_000,
  });
  return (body as { token: string }).token;
}
