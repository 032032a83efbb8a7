// Fleet capacity: memory per idle connected agent, and the largest fleet one process holds in steady
// state. The control plane runs as a child process; the fleet runs in this process and grows step
// by step (each step starts the agents it adds). Steady state: every agent registered, hydrated and
// long-polling, and over `--hold-s` seconds no agent errs, backs off or falls out of sync. Memory is
// measured after a full GC, as deltas from N = 0 (this process after a small warm-up fleet came and
// went). Stepping stops at the first step that is not steady, or that the open-file limit cannot
// hold: each long-poll holds a socket in this process and one in the control plane's. Ten cells of
// one resource by default: every agent's first status report locks its cell's resource row, and
// the control plane writes those reports one at a time per row, so more cells start the fleet faster.
// Prints JSON. Usage:
//   node --expose-gc bench/fleet-capacity.ts [--agents 1000,2500,5000,10000] [--cells 10]
//     [--wait-ms 30000] [--heartbeat-ms 30000] [--hold-s <wait + 5>] [--max-sockets <N>] [--db-pool 16]
//     [--ramp-in-flight 50] [--ramp-timeout-s 300]
import { availableParallelism, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Fleet } from '../simulators/fleet/index.ts';
import {
  collectGarbage,
  cpuMeter,
  cpuSeconds,
  GatewayTraffic,
  loadAverage,
  mib,
  openFileLimit,
  openFiles,
  residentMiB,
  sampleDatabaseSessions,
  startBenchEnvironment,
  waitUntil,
} from './fleet-support.ts';
import { round, summarize } from './support.ts';

const targetAgents = 10_000;
const targetMiB = 1024;
const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000,2500,5000,10000' },
    cells: { type: 'string', default: '10' },
    'resources-per-cell': { type: 'string', default: '1' },
    'wait-ms': { type: 'string', default: '30000' },
    'heartbeat-ms': { type: 'string', default: '30000' },
    'hold-s': { type: 'string' },
    'max-sockets': { type: 'string' },
    'db-pool': { type: 'string', default: '16' },
    'ramp-in-flight': { type: 'string', default: '50' },
    'ramp-timeout-s': { type: 'string', default: '300' },
  },
});
const steps = values.agents.split(',').map(Number);
const cellCount = Number(values.cells);
const cells = Array.from({ length: cellCount }, (_, i) => `cell-${i + 1}`);
const waitMs = Number(values['wait-ms']);
const heartbeatMs = Number(values['heartbeat-ms']);
// long enough for every agent to renew its long-poll and heartbeat at least once
const holdMs = values['hold-s'] ? Number(values['hold-s']) * 1000 : Math.max(waitMs, heartbeatMs) + 5_000;
const rampInFlight = Number(values['ramp-in-flight']);
const rampTimeoutMs = Number(values['ramp-timeout-s']) * 1000;
const largest = Math.max(...steps);
const idlePerAgentPerSec = 1000 / waitMs + 1000 / heartbeatMs;
const controlPlaneEnv = {
  // idle, an agent sends one long-poll per wait and one heartbeat per interval; starting, five
  // requests at most (register, snapshot, status, events, heartbeat): the defaults (5/s, burst 20) fit
  AGENT_RATE_LIMIT_PER_SEC: '5',
  AGENT_RATE_LIMIT_BURST: '20',
  // twice the idle traffic of the largest step plus the start's, so only the fleet's own limits show
  AGENT_GLOBAL_RATE_LIMIT_PER_SEC: String(Math.ceil(2 * largest * idlePerAgentPerSec) + 5 * rampInFlight),
  // the start admits at most --ramp-in-flight agents at a time: the bench paces it, not the limit
  AGENT_REGISTER_RATE_LIMIT_PER_SEC: '2000',
  AGENT_SNAPSHOT_CONCURRENCY: String(rampInFlight),
  AGENT_MAX_WAITERS: String(largest * 2),
  DATABASE_POOL_MAX: values['db-pool'],
  // no flows run in this bench: their worker's sweeps would only add noise
  FLOW_WORKER_ENABLED: 'false',
};

const traffic = new GatewayTraffic();
await using env = await startBenchEnvironment({
  name: 'bench_fleet_capacity',
  cells,
  resourcesPerCell: Number(values['resources-per-cell']),
  controlPlaneEnv,
  traffic,
});
const controlPlaneUrl = env.controlPlane.url;

/** Agents added by one step; with --max-sockets, each step's pool holds at most that many sockets. */
const startAgents = (agents: number) =>
  env.startFleet({
    agents,
    inFlight: rampInFlight,
    timeoutMs: rampTimeoutMs,
    maxSockets: Number(values['max-sockets'] ?? agents),
    strategy: 'full-jitter',
    seed: 9,
    agent: { waitMs, heartbeatMs, backoffBaseMs: 200, backoffCapMs: 5_000 },
  });

function memory() {
  collectGarbage();
  const usage = process.memoryUsage();
  return {
    heapUsedMiB: mib(usage.heapUsed),
    heapTotalMiB: mib(usage.heapTotal),
    externalMiB: mib(usage.external),
    rssMiB: mib(usage.rss),
    controlPlaneRssMiB: residentMiB(env.controlPlane.pid).rssMiB,
  };
}

/** Median /healthz time of the control plane, a few probes during the hold. */
async function healthProbe(): Promise<number> {
  const started = performance.now();
  await fetch(`${controlPlaneUrl}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
  return performance.now() - started;
}

const fileLimit = openFileLimit();
// a warm-up fleet first, so N = 0 already holds what any fleet loads once (modules, key objects, parsers)
const warmup = await startAgents(cellCount * 2);
await waitUntil(() => warmup.counters().inSync === warmup.agents.length, 60_000);
await warmup.stop();
await sleep(500);
const baseline = memory();
const baselineFiles = openFiles(process.pid);
const controlPlaneBaselineFiles = openFiles(env.controlPlane.pid);

// the fleet grows step by step: each step adds agents (a fleet of their own, on its own pool)
const fleets: Fleet[] = [];
let running = 0;
/** The counters of every fleet started so far, summed. */
function counters() {
  const total = {
    agents: 0,
    inSync: 0,
    backingOff: 0,
    errors: 0,
    errorsByKind: {} as Record<string, number>,
  };
  for (const fleet of fleets) {
    const each = fleet.counters();
    total.agents += each.agents;
    total.inSync += each.inSync;
    total.backingOff += each.backingOff;
    total.errors += each.errors;
    for (const [kind, n] of Object.entries(each.errorsByKind))
      total.errorsByKind[kind] = (total.errorsByKind[kind] ?? 0) + n;
  }
  return total;
}

const results = [];
let bound: string | undefined;
let previousMeasured = { agents: 0, memory: baseline };
try {
  for (const requested of steps) {
    const agents = Math.ceil(requested / cellCount) * cellCount;
    // one socket per long-poll in this process and one in the control plane's, plus a margin
    const needed = Math.max(baselineFiles.files, controlPlaneBaselineFiles.files) + agents + 200;
    if (needed > fileLimit) {
      bound = `open files: ${agents} long-polls need about ${needed} descriptors in each process (a socket per long-poll in the fleet and in the control plane), the limit is ${fileLimit}`;
      break;
    }
    if (agents <= running) continue;
    const previous = running;
    traffic.take();
    const rampStarted = performance.now();
    const rampSessions = sampleDatabaseSessions(env.databaseUrl);
    const rampControlPlaneCpu = cpuMeter(() => cpuSeconds(env.controlPlane.pid));
    let startError: string | undefined;
    try {
      fleets.push(await startAgents(agents - running));
    } catch (error) {
      startError = (error as Error).message;
    }
    running = agents;
    const inSync = !startError && (await waitUntil(() => counters().inSync === agents, rampTimeoutMs, 1_000));
    const rampSeconds = round((performance.now() - rampStarted) / 1000);
    const ramp = {
      added: agents - previous,
      seconds: rampSeconds,
      controlPlaneCpuPercent: rampControlPlaneCpu.end(),
      gatewayResponses: traffic.take(),
      databaseSessions: await rampSessions.stop(),
      errorsByKind: counters().errorsByKind,
      ...(startError ? { error: startError } : {}),
    };
    const rampErrors = counters().errors;
    if (!inSync) {
      results.push({ agents, steady: false, ramp, counters: counters() });
      bound = `start: not every agent was in sync after ${rampTimeoutMs / 1000} s`;
      break;
    }
    // hold: idle, no agent may err or back off
    traffic.take();
    const meters = {
      fleetAndBench: cpuMeter(() => cpuSeconds(process.pid)),
      controlPlane: cpuMeter(() => cpuSeconds(env.controlPlane.pid)),
      postgres: cpuMeter(() => env.postgresCpuSeconds()),
    };
    const holdStarted = performance.now();
    const health: number[] = [];
    let fewestInSync = agents;
    let backingOff = 0;
    while (performance.now() - holdStarted < holdMs) {
      await sleep(Math.min(1_000, holdMs / 5));
      health.push(await healthProbe());
      const now = counters();
      fewestInSync = Math.min(fewestInSync, now.inSync);
      backingOff = Math.max(backingOff, now.backingOff);
    }
    const holdSeconds = (performance.now() - holdStarted) / 1000;
    const cpuPercentOfOneCore = {
      fleetAndBench: meters.fleetAndBench.end(),
      controlPlane: meters.controlPlane.end(),
      postgres: meters.postgres.end(),
    };
    const requests = traffic.requests;
    const holdResponses = traffic.take();
    const final = counters();
    const files = openFiles(process.pid);
    const controlPlaneFiles = openFiles(env.controlPlane.pid);
    const holdErrors = final.errors - rampErrors;
    const steady = holdErrors === 0 && final.inSync === agents && backingOff === 0;
    const measured = memory();
    const perAgentKiB = (now: number, before: number, count = agents) =>
      round(((now - before) * 1024) / count);
    const added = agents - previousMeasured.agents;
    results.push({
      agents,
      steady,
      memory: measured,
      perAgentKiB: {
        heapUsed: perAgentKiB(measured.heapUsedMiB, baseline.heapUsedMiB),
        heapTotal: perAgentKiB(measured.heapTotalMiB, baseline.heapTotalMiB),
        rss: perAgentKiB(measured.rssMiB, baseline.rssMiB),
        controlPlaneRss: perAgentKiB(measured.controlPlaneRssMiB, baseline.controlPlaneRssMiB),
      },
      // from the step before: the baseline's noise (a GC's timing, compiled code) divides out
      marginalPerAgentKiB: {
        heapUsed: perAgentKiB(measured.heapUsedMiB, previousMeasured.memory.heapUsedMiB, added),
        rss: perAgentKiB(measured.rssMiB, previousMeasured.memory.rssMiB, added),
        controlPlaneRss: perAgentKiB(
          measured.controlPlaneRssMiB,
          previousMeasured.memory.controlPlaneRssMiB,
          added,
        ),
      },
      files: { fleet: files, controlPlane: controlPlaneFiles },
      hold: {
        seconds: round(holdSeconds),
        requestsPerSecond: Math.round(requests / holdSeconds),
        gatewayResponses: holdResponses,
        errors: holdErrors,
        fewestInSync,
        healthzMs: summarize(health),
        cpuPercentOfOneCore,
        loadAverage: loadAverage(),
      },
      ramp,
    });
    previousMeasured = { agents, memory: measured };
    if (!steady) {
      bound = `steady state: ${holdErrors} errors, ${backingOff} agents backing off, ${agents - fewestInSync} out of sync while idle`;
      break;
    }
  }
} finally {
  await Promise.all(fleets.map((fleet) => fleet.stop()));
}

type SteadyStep = { agents: number; memory: { rssMiB: number } };
const steadySteps = results.filter((step) => step.steady === true) as SteadyStep[];
const atTarget = steadySteps.find((step) => step.agents >= targetAgents);
console.log(
  JSON.stringify(
    {
      benchmark: 'fleet-capacity',
      description:
        'memory per idle connected agent (after GC, deltas from N = 0) and the largest fleet one process holds in steady state; control plane as a child process',
      node: process.version,
      cpus: availableParallelism(),
      totalMemoryMiB: mib(totalmem()),
      openFileLimit: fileLimit,
      cells: cellCount,
      fleet: { waitMs, heartbeatMs, maxSocketsPerStepPool: values['max-sockets'] ?? 'one per agent' },
      controlPlaneEnv,
      holdSeconds: holdMs / 1000,
      baseline: { ...baseline, files: baselineFiles, controlPlaneFiles: controlPlaneBaselineFiles },
      steps: results,
      largestSteadyAgents: steadySteps.at(-1)?.agents ?? 0,
      boundBy: bound ?? `not reached: the largest step asked (${largest}) was steady`,
      target: { agents: targetAgents, underMiB: targetMiB },
      // the whole fleet process's RSS at 10,000 agents, not only the delta
      meetsTarget: atTarget !== undefined && atTarget.memory.rssMiB < targetMiB,
    },
    null,
    2,
  ),
);
