// Many agents in one process (issue 5, item 13, minimal): they share one keep-alive socket pool, so
// a storm of N agents costs N long-polls on a bounded number of sockets, not N pools.
import http from 'node:http';
import { type AgentOptions, FleetAgent } from './agent.ts';
import type { BackoffStrategy } from './backoff.ts';
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
  /** Passed to every agent (apply time, waits, backoff bounds, pinned keys). */
  agent?: Omit<
    AgentOptions,
    'url' | 'name' | 'bootstrapToken' | 'credentials' | 'strategy' | 'seed' | 'httpAgent'
  >;
}

export interface FleetCounters {
  agents: number;
  connected: number;
  syncing: number;
  inSync: number;
  backingOff: number;
  errors: number;
}

export interface Fleet {
  readonly agents: readonly FleetAgent[];
  counters(): FleetCounters;
  stop(): Promise<void>;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 });
  const mint =
    options.bootstrapToken ??
    ((cell: string) => mintBootstrapToken(options.url, cell, options.adminToken, httpAgent));
  const agents: FleetAgent[] = [];
  try {
    for (const cell of options.cells) {
      for (let index = 0; index < options.agentsPerCell; index++) {
        const bootstrapToken = await mint(cell, index);
        const agent = new FleetAgent({
          ...options.agent,
          url: options.url,
          name: `${cell}-agent-${index}`,
          bootstrapToken,
          strategy: options.strategy,
          seed: options.seed,
          httpAgent,
        });
        agents.push(agent.start());
      }
    }
  } catch (error) {
    await Promise.all(agents.map((agent) => agent.stop()));
    httpAgent.destroy();
    throw error;
  }
  return {
    agents,
    counters() {
      const counters = {
        agents: agents.length,
        connected: 0,
        syncing: 0,
        inSync: 0,
        backingOff: 0,
        errors: 0,
      };
      for (const agent of agents) {
        const status = agent.status;
        if (status.connected) counters.connected += 1;
        if (status.state === 'syncing' || status.state === 'starting') counters.syncing += 1;
        if (status.state === 'inSync') counters.inSync += 1;
        if (status.state === 'backingOff') counters.backingOff += 1;
        counters.errors += status.errors;
      }
      return counters;
    },
    async stop() {
      await Promise.all(agents.map((agent) => agent.stop()));
      httpAgent.destroy();
    },
  };
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
