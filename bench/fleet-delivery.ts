// Fleet delivery latency: from the commit of a desired-state change to every agent of the cell
// having applied it, with a whole fleet connected and long-polling. The control plane runs as a
// child process; the fleet (one shared pool) and the measuring run in this process.
//
// Changes are made in SQL, one at a time, round-robin over the cells (every fourth a new resource,
// the others a spec update). Two pacings, each its own series:
//   reported  the next change starts `--gap-ms` after every agent of the cell had its status report
//             for the last one accepted: only the change's own reports compete with its delivery
//   applied   the next change starts `--gap-ms` after every agent applied the last one: it meets
//             the last change's status reports still being written
// Times are taken in this process, without polling:
//   commit    the UPDATE/INSERT (autocommit) has returned
//   notify    this process's own LISTEN on the outbox channel got the change's NOTIFY
//   response  an agent's long-poll answer arrived (the http client's diagnostics channel)
//   applied   the agent put the change into its local data plane (a hook on LocalDataPlane.put)
//   reported  the control plane accepted the agent's status report (200 to POST /v1/agent/status)
// Prints JSON. Usage:
//   node bench/fleet-delivery.ts [--agents 1000] [--cells 4] [--changes 150] [--gap-ms 100]
//     [--pace reported,applied] [--max-sockets <agents>] [--wait-ms 10000] [--heartbeat-ms 15000]
//     [--db-pool 16] [--change-timeout-ms 10000]
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { outboxChannel } from '../control-plane/index.ts';
import type { FleetAgent } from '../simulators/fleet/index.ts';
import {
  cpuMeter,
  cpuSeconds,
  GatewayTraffic,
  loadAverage,
  sampleDatabaseSessions,
  startBenchEnvironment,
  waitUntil,
} from './fleet-support.ts';
import { round, summarize } from './support.ts';

const targetP99Ms = 100;
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    cells: { type: 'string', default: '4' },
    changes: { type: 'string', default: '150' },
    'gap-ms': { type: 'string', default: '100' },
    pace: { type: 'string', default: 'reported,applied' },
    'max-sockets': { type: 'string' },
    'wait-ms': { type: 'string', default: '10000' },
    'heartbeat-ms': { type: 'string', default: '15000' },
    'db-pool': { type: 'string', default: '16' },
    'change-timeout-ms': { type: 'string', default: '10000' },
  },
});
const cellCount = Number(values.cells);
const agentsPerCell = Math.ceil(Number(values.agents) / cellCount);
const agentCount = agentsPerCell * cellCount;
const changeCount = Number(values.changes);
const gapMs = Number(values['gap-ms']);
const paces = values.pace.split(',') as Pace[];
const maxSockets = Number(values['max-sockets'] ?? agentCount);
const waitMs = Number(values['wait-ms']);
const heartbeatMs = Number(values['heartbeat-ms']);
const changeTimeoutMs = Number(values['change-timeout-ms']);
const warmupChanges = cellCount * 2;
const cells = Array.from({ length: cellCount }, (_, i) => `cell-${i + 1}`);
type Pace = 'reported' | 'applied';
if (paces.some((pace) => pace !== 'reported' && pace !== 'applied'))
  throw new Error(`--pace takes reported, applied or both (comma-separated), not ${values.pace}`);

// Each change costs every agent of its cell three requests (the events answer, the status report,
// the next long-poll), and a cell sees at most one change every cellCount × gap ms. The limits are
// twice what the run can ask, so they refuse nothing: per agent that rate plus the idle polls and
// heartbeats; for the process every cell's agents at the same time plus every agent's idle traffic.
const changesPerCellPerSec = 1000 / (cellCount * Math.max(gapMs, 10));
const idlePerAgentPerSec = 1000 / waitMs + 1000 / heartbeatMs;
const ratePerSec = Math.ceil(2 * (3 * changesPerCellPerSec + idlePerAgentPerSec)) + 5;
const globalPerSec = Math.ceil(2 * agentCount * (3 * changesPerCellPerSec + idlePerAgentPerSec)) + 1000;
const rampInFlight = 50;
const controlPlaneEnv = {
  AGENT_RATE_LIMIT_PER_SEC: String(ratePerSec),
  AGENT_RATE_LIMIT_BURST: String(Math.max(20, ratePerSec * 2)),
  AGENT_GLOBAL_RATE_LIMIT_PER_SEC: String(globalPerSec),
  // the start admits at most rampInFlight agents at a time: the bench paces it, not the limit
  AGENT_REGISTER_RATE_LIMIT_PER_SEC: '2000',
  AGENT_SNAPSHOT_CONCURRENCY: String(rampInFlight),
  AGENT_MAX_WAITERS: String(agentCount * 2),
  DATABASE_POOL_MAX: values['db-pool'],
  // no flows run in this bench: their worker's sweeps would only add noise
  FLOW_WORKER_ENABLED: 'false',
};

/** summarize() of a series that may be empty. */
const stats = (timesMs: number[]) =>
  timesMs.length ? { samples: timesMs.length, ...summarize(timesMs) } : null;

interface Watch {
  cell: string;
  resourceId: string;
  generation: number;
  startedAt: number;
  notifiedAt?: number;
  responses: Map<FleetAgent, number>;
  applied: Map<FleetAgent, number>;
  reported: Map<FleetAgent, number>;
  allApplied: PromiseWithResolvers<void>;
  allReported: PromiseWithResolvers<void>;
}
let watch: Watch | undefined;
const agentByToken = new Map<string, FleetAgent>();
const agentsOf = new Map<string, FleetAgent[]>(cells.map((cell) => [cell, []]));

// gateway answers by route and status, per phase (the fleet's start, then each series)
const traffic = new GatewayTraffic();
traffic.onAnswer(({ request, response, route }) => {
  const current = watch;
  if (!current || response.statusCode !== 200) return;
  const agent = agentByToken.get(String(request.getHeader('authorization')));
  if (!agent) return;
  // the last answer before the apply is the one that carried the change (an earlier one was empty)
  if (route === '/v1/agent/events' && !current.applied.has(agent))
    current.responses.set(agent, performance.now());
  if (route === '/v1/agent/status' && current.applied.has(agent) && !current.reported.has(agent)) {
    current.reported.set(agent, performance.now());
    if (current.reported.size === agentsOf.get(current.cell)!.length) current.allReported.resolve();
  }
});

await using env = await startBenchEnvironment({
  name: 'bench_fleet_delivery',
  cells,
  resourcesPerCell: 4,
  controlPlaneEnv,
  traffic,
});

const rampStarted = performance.now();
const fleet = await env.startFleet({
  agents: agentCount,
  inFlight: rampInFlight,
  timeoutMs: 60_000 + agentCount * 30,
  maxSockets,
  strategy: 'full-jitter',
  seed: 5,
  agent: { waitMs, heartbeatMs, backoffBaseMs: 100, backoffCapMs: 2_000 },
});
const listener = new pg.Client({ connectionString: env.databaseUrl });
try {
  const inSync = await waitUntil(() => fleet.counters().inSync === agentCount, 60_000 + agentCount * 30);
  if (!inSync) throw new Error(`the fleet did not get in sync: ${JSON.stringify(fleet.counters())}`);
  const ramp = {
    seconds: round((performance.now() - rampStarted) / 1000),
    errorsByKind: fleet.counters().errorsByKind,
    gatewayResponses: traffic.take(),
  };

  for (const agent of fleet.agents) {
    agentByToken.set(`Bearer ${agent.identity!.token}`, agent);
    agentsOf.get(agent.identity!.cell)!.push(agent);
    // the apply itself, without polling: the data plane's put is where a change lands
    const local = agent.local;
    const put = local.put.bind(local);
    local.put = (...args: Parameters<typeof put>) => {
      const resource = put(...args);
      const [resourceId, desired] = args;
      const current = watch;
      if (current && resourceId === current.resourceId && desired.generation >= current.generation) {
        if (!current.applied.has(agent)) current.applied.set(agent, performance.now());
        if (current.applied.size === agentsOf.get(current.cell)!.length) current.allApplied.resolve();
      }
      return resource;
    };
  }

  await listener.connect();
  listener.on('notification', ({ payload }) => {
    if (watch && !watch.notifiedAt && payload?.startsWith(`${watch.cell}:`))
      watch.notifiedAt = performance.now();
  });
  await listener.query(`LISTEN ${outboxChannel}`);

  /** One change in its cell, in SQL; resolves once every agent of the cell applied it (or reported it). */
  async function change(index: number, pace: Pace) {
    const cell = cells[index % cellCount]!;
    const create = index % 4 === 3;
    const ids = env.resources.get(cell)!;
    // known before the commit, so an agent that applies it before the commit's answer arrives counts
    const resourceId = create ? randomUUID() : ids[index % ids.length]!;
    // only this bench changes desired state, so the change makes the next generation
    const { rows } = await env.db.query<{ generation: number }>(
      'SELECT generation FROM resources WHERE id = $1',
      [resourceId],
    );
    const held = rows[0]?.generation ?? 0;
    const pending: Watch = {
      cell,
      resourceId,
      generation: held + 1,
      startedAt: performance.now(),
      responses: new Map(),
      applied: new Map(),
      reported: new Map(),
      allApplied: Promise.withResolvers<void>(),
      allReported: Promise.withResolvers<void>(),
    };
    watch = pending;
    if (create) {
      await env.db.query(
        `INSERT INTO resources (id, org_id, kind, name, spec, cell_id)
         VALUES ($1, $2, 'database', $3, '{"engine":"postgres","version":"16","storageGb":10}', $4)`,
        [resourceId, env.orgId, `bench-${index}`, cell],
      );
      ids.push(resourceId);
    } else {
      await env.db.query(
        `UPDATE resources SET spec = jsonb_set(spec, '{storageGb}', to_jsonb($2::int)),
                generation = generation + 1 WHERE id = $1`,
        [resourceId, (index % 1000) + 11],
      );
    }
    const committedAt = performance.now();
    const awaited = pace === 'reported' ? pending.allReported : pending.allApplied;
    await Promise.race([awaited.promise, sleep(changeTimeoutMs)]);
    watch = undefined;
    return { watch: pending, committedAt };
  }

  let index = 0;
  for (let i = 0; i < warmupChanges; i++) {
    await change(index++, 'reported');
    await sleep(gapMs);
  }

  /** `changeCount` changes at one pace; the distributions of every stage. */
  async function series(pace: Pace) {
    const delivery: number[] = [];
    const firstAgent: number[] = [];
    const wholeCell: number[] = [];
    const wholeCellReported: number[] = [];
    const commit: number[] = [];
    const commitToNotify: number[] = [];
    const notifyToResponse: number[] = [];
    const responseToApplied: number[] = [];
    const appliedToReported: number[] = [];
    let missed = 0;
    let unreported = 0;
    traffic.take();
    const errorsBefore = fleet.counters().errors;
    const meters = {
      fleetAndBench: cpuMeter(() => cpuSeconds(process.pid)),
      controlPlane: cpuMeter(() => cpuSeconds(env.controlPlane.pid)),
      postgres: cpuMeter(() => env.postgresCpuSeconds()),
    };
    const load = [loadAverage()];
    const sampler = sampleDatabaseSessions(env.databaseUrl);
    const started = performance.now();
    for (let i = 0; i < changeCount; i++) {
      const { watch: done, committedAt } = await change(index++, pace);
      const cellSize = agentsOf.get(done.cell)!.length;
      commit.push(committedAt - done.startedAt);
      if (done.notifiedAt !== undefined) commitToNotify.push(done.notifiedAt - committedAt);
      const applied = [...done.applied.values()].map((at) => at - committedAt);
      delivery.push(...applied);
      if (applied.length) firstAgent.push(Math.min(...applied));
      missed += cellSize - done.applied.size;
      if (done.applied.size === cellSize) wholeCell.push(Math.max(...applied));
      if (done.reported.size === cellSize)
        wholeCellReported.push(Math.max(...[...done.reported.values()].map((at) => at - committedAt)));
      for (const [agent, appliedAt] of done.applied) {
        const respondedAt = done.responses.get(agent);
        const reportedAt = done.reported.get(agent);
        if (reportedAt !== undefined) appliedToReported.push(reportedAt - appliedAt);
        if (respondedAt === undefined || respondedAt > appliedAt) continue;
        if (done.notifiedAt !== undefined) notifyToResponse.push(respondedAt - done.notifiedAt);
        responseToApplied.push(appliedAt - respondedAt);
      }
      // in the applied pace the next change does not wait for reports, so only count them in the other
      if (pace === 'reported') unreported += cellSize - done.reported.size;
      await sleep(gapMs);
    }
    const seconds = round((performance.now() - started) / 1000);
    const cpuPercentOfOneCore = {
      fleetAndBench: meters.fleetAndBench.end(),
      controlPlane: meters.controlPlane.end(),
      postgres: meters.postgres.end(),
    };
    load.push(loadAverage());
    const databaseSessions = await sampler.stop();
    const deliveryMs = stats(delivery);
    return {
      pace,
      changes: changeCount,
      seconds,
      meetsTarget: missed === 0 && (deliveryMs?.p99Ms ?? Number.POSITIVE_INFINITY) < targetP99Ms,
      deliveryMs,
      perChangeMs: {
        firstAgentApplied: stats(firstAgent),
        wholeCellApplied: stats(wholeCell),
        wholeCellReported: stats(wholeCellReported),
      },
      breakdownMs: {
        commit: stats(commit),
        commitToNotify: stats(commitToNotify),
        notifyToResponse: stats(notifyToResponse),
        responseToApplied: stats(responseToApplied),
        appliedToReported: stats(appliedToReported),
      },
      missedDeliveries: missed,
      ...(pace === 'reported' ? { missedReports: unreported } : {}),
      fleetErrors: fleet.counters().errors - errorsBefore,
      gatewayResponses: traffic.take(),
      cpuPercentOfOneCore,
      databaseSessions,
      loadAverage: load,
    };
  }

  const runs = [];
  for (const pace of paces) runs.push(await series(pace));
  console.log(
    JSON.stringify(
      {
        benchmark: 'fleet-delivery',
        description:
          'commit of a desired-state change (SQL) to its application by every agent of the cell; control plane as a child process, fleet in this process',
        node: process.version,
        cpus: availableParallelism(),
        agents: agentCount,
        cells: cellCount,
        agentsPerCell,
        warmupChanges,
        gapMs,
        targetP99Ms,
        fleet: { maxSockets, waitMs, heartbeatMs, strategy: 'full-jitter' },
        controlPlaneEnv,
        ramp,
        runs,
        fleetCounters: fleet.counters(),
      },
      null,
      2,
    ),
  );
} finally {
  await listener.end().catch(() => {});
  await fleet.stop();
}
