// Environment start to ready (issue 6): the whole environment a scenario file gets — Postgres, the
// four simulators, the control plane (a child process, with the interception preload and trace
// export), the trace collector, the fault proxy and three agents (one per cell), each agent
// hydrated — measured two ways:
//   full:        from nothing, an embedded Postgres started and a database migrated (`planewright up`)
//   incremental: with the run's Postgres and migrated template already there, as each test file
//                gets it from the fixtures (a cloned database, everything else started)
// Prints JSON with medians and each component's own time.
//   node bench/environment.ts [--runs 5]
import { parseArgs } from 'node:util';
import { migrate } from '../control-plane/index.ts';
import { createEmptyDatabase, startEnvironment, startPostgres, stopPostgres } from '../harness/env/index.ts';
import { percentile, round } from './support.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const fleet = { agentsPerCell: 1, cells: ['cell-1', 'cell-2', 'cell-3'], agent: { waitMs: 5_000 } };
const cells = ['cell-1:100', 'cell-2:100', 'cell-3:100'];

async function ready(env: Awaited<ReturnType<typeof startEnvironment>>) {
  await env.fleet!.waitFor((counters) => counters.inSync === counters.agents, 30_000);
}

const medianOf = (samples: Record<string, number>[], key: string) =>
  round(
    percentile(
      samples.map((sample) => sample[key] ?? 0),
      50,
    ),
  );

async function full() {
  const samples: Record<string, number>[] = [];
  for (let run = 0; run < runs; run++) {
    const began = performance.now();
    const env = await startEnvironment({ fleet, cells });
    await ready(env);
    samples.push({ totalMs: performance.now() - began, ...env.timings });
    await env.stop();
  }
  return samples;
}

async function incremental() {
  const server = await startPostgres();
  const template = await createEmptyDatabase(server, 'bench_env_template');
  await migrate(template);
  const samples: Record<string, number>[] = [];
  try {
    for (let run = 0; run < runs + 1; run++) {
      const began = performance.now();
      const env = await startEnvironment({
        postgres: { server, template: 'bench_env_template' },
        fleet,
        cells,
      });
      await ready(env);
      const sample = { totalMs: performance.now() - began, ...env.timings };
      await env.stop();
      // the first start warms the OS file cache for the control plane's modules: not counted
      if (run > 0) samples.push(sample);
    }
  } finally {
    await stopPostgres(server);
  }
  return samples;
}

const report = (samples: Record<string, number>[], targetMs: number) => {
  const components = Object.keys(samples[0]!).filter((key) => key !== 'totalMs');
  const totalMs = medianOf(samples, 'totalMs');
  return {
    runs: samples.length,
    medianMs: totalMs,
    minMs: round(Math.min(...samples.map((sample) => sample.totalMs!))),
    maxMs: round(Math.max(...samples.map((sample) => sample.totalMs!))),
    targetMs,
    metTarget: totalMs < targetMs,
    componentsMedianMs: Object.fromEntries(components.map((key) => [key, medianOf(samples, key)])),
  };
};

const fullSamples = await full();
const incrementalSamples = await incremental();
console.log(
  JSON.stringify(
    {
      benchmark: 'environment',
      node: process.version,
      full: report(fullSamples, 3_000),
      incremental: report(incrementalSamples, 300),
      note: 'components start side by side where they can (Postgres with the simulators), so their times overlap; fleet includes registering and hydrating',
    },
    null,
    2,
  ),
);
