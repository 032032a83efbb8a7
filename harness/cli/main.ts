// The `planewright` command line: parses the command and its options, then runs it. Exit codes:
// 0 when everything asked for passed, 1 when it failed, 2 for a usage error.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { PlanewrightError } from '../errors.ts';
import { up } from './up.ts';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Lines describing the options, for --help. */
  optionHelp: string[];
  /** Paragraph after the options, for --help. */
  notes: string[];
  /** Takes positional arguments (such as the simulator's name). */
  positionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, io: Io, positionals: string[]): Promise<number>;
}

class UsageError extends Error {}

const commands: Record<string, Command> = {
  up: {
    summary: 'start a whole environment (Postgres, simulators, control plane) and keep it up until Ctrl-C',
    usage: 'planewright up [--port N] [--agents N] [--seed N] [--json]',
    options: {
      port: { type: 'string', short: 'p' },
      agents: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      '  -p, --port N   control-plane port (default 0: a free port)',
      '  --agents N     also run a fleet of N data-plane agents per cell (default 0)',
      '  --seed N       seed of the simulators and the fleet (default: random, printed)',
      '  --json         print the summary as one JSON line',
    ],
    notes: [
      'DATABASE_URL uses that Postgres instead of an embedded one. Other control-plane settings',
      '(LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT, FLOW_*, …) pass through from the environment.',
      'Writes .planewright/env.json (URLs and tokens) and .planewright/logs/ while it runs.',
    ],
    run: (values, io) =>
      up({
        ...io,
        port: parsePort(values.port),
        agents: parseCount(values.agents, '--agents', 1000),
        seed: parseSeed(values.seed),
        json: values.json === true,
      }),
  },
  run: {
    summary: 'run the scenario suite and write a run folder (results, journals, logs)',
    usage: 'planewright run [filter…] [--seed N] [--faults FILE] [--out DIR] [--dir DIR] [--reporter junit]',
    options: {
      seed: { type: 'string' },
      faults: { type: 'string' },
      slos: { type: 'string' },
      out: { type: 'string' },
      dir: { type: 'string' },
      reporter: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      '  filter…          run only scenario files whose path contains one of these',
      '  --seed N         seed of every fault decision, 0 to 4294967295 (default: random, printed)',
      '  --faults FILE    a fault schedule (.json or .yaml; see docs/faults.md) applied to every scenario file',
      "  --slos FILE      SLOs checked over the run's traces at the end (default: slos.yaml of the scenario folder)",
      '  --out DIR        the run folder (default runs/<id>)',
      '  --dir DIR        the folder of scenario files (default scenarios/)',
      '  --reporter junit also print where the JUnit XML is (it is always written to the run folder)',
    ],
    notes: [
      'The run folder holds run.json (seed, commit, options), results.json and junit.xml, the fault',
      'journal of each scenario file (journals/) and the control plane logs (logs/). Ends with',
      '"N passed, N failed"; exits 1 when anything failed. `planewright replay <run folder>` replays it.',
    ],
    positionals: true,
    run: async (values, io, positionals) => {
      const reporter = values.reporter;
      if (reporter !== undefined && reporter !== 'junit' && reporter !== 'default')
        throw new UsageError(`--reporter takes junit or default, not "${reporter}"`);
      const { run } = await import('./run.ts');
      return run({
        ...io,
        filters: positionals,
        seed: parseSeed(values.seed),
        faults: typeof values.faults === 'string' ? values.faults : undefined,
        slos: typeof values.slos === 'string' ? values.slos : undefined,
        out: typeof values.out === 'string' ? values.out : undefined,
        dir: typeof values.dir === 'string' ? values.dir : undefined,
        reporter: reporter as 'junit' | 'default' | undefined,
      });
    },
  },
  replay: {
    summary: "re-run a run folder's scenarios with its recorded fault decisions",
    usage: 'planewright replay <run folder> [--out DIR]',
    options: {
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: ['  --out DIR      the new run folder (default runs/<id>)'],
    notes: [
      'Same scenarios, seed and fault schedule; each simulator answers from the recorded journal,',
      'matching requests by fingerprint and occurrence, not timing. Reports any recorded fault that',
      'found no matching request, and exits 1 then or when a test failed.',
    ],
    positionals: true,
    run: async (values, io, positionals) => {
      if (positionals.length !== 1)
        throw new UsageError('name one run folder, such as runs/20261125-101500-ab12');
      const { replay } = await import('./run.ts');
      return replay({
        ...io,
        runDir: positionals[0]!,
        out: typeof values.out === 'string' ? values.out : undefined,
      });
    },
  },
  slo: {
    summary: "check SLOs over a run folder's traces and print a table",
    usage: 'planewright slo check <run folder> [--slos FILE]',
    options: {
      slos: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: ["  --slos FILE    the SLOs (YAML or JSON; default: slos.yaml of the run's scenario folder)"],
    notes: [
      'Prints every SLO with its observed n, p50, p99 and max and pass or fail, writes slo.json and',
      'slo.txt into the run folder, and exits 1 when an SLO failed or saw no data (docs/traces.md).',
    ],
    positionals: true,
    run: async (values, io, positionals) => {
      const [verb, runDir, ...extra] = positionals;
      if (verb !== 'check')
        throw new UsageError('the subcommand is check: planewright slo check <run folder>');
      if (!runDir || extra.length > 0)
        throw new UsageError('name one run folder, such as runs/20261125-101500-ab12');
      const { sloCheck } = await import('./slo.ts');
      return sloCheck({ ...io, runDir, slos: typeof values.slos === 'string' ? values.slos : undefined });
    },
  },
  sim: {
    summary: 'run one vendor simulator (stripe, salesforce, auth, notify) until Ctrl-C',
    usage: 'planewright sim <stripe|salesforce|auth|notify> [--port N] [--seed N] [--module FILE]',
    options: {
      port: { type: 'string', short: 'p' },
      seed: { type: 'string' },
      module: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    optionHelp: [
      '  -p, --port N   port (default 0: a free port)',
      '  --seed N       seed of the fault decisions, 0 to 4294967295 (default: random, printed)',
      '  --module FILE  load create<Name>Simulator from FILE instead of simulators/<name>/index.ts',
    ],
    notes: [
      'Prints the base URL (http://127.0.0.1:PORT) on the first line of stdout; JSON logs go to',
      'stderr (LOG_LEVEL, default info). The admin API is under /_sim/ (see docs/simulators.md).',
      'OTEL_EXPORTER_OTLP_ENDPOINT exports its spans over OTLP/HTTP; PLANEWRIGHT_SIMULATORS_DIR',
      'loads <name>/index.ts from that folder instead of simulators/.',
    ],
    positionals: true,
    run: async (values, io, positionals) => {
      const [name, ...extra] = positionals;
      if (name === undefined) throw new UsageError('name the simulator: stripe, salesforce, auth or notify');
      if (extra.length > 0) throw new UsageError(`one simulator at a time, not "${positionals.join(' ')}"`);
      const options = {
        port: parsePort(values.port),
        seed: parseSeed(values.seed),
        module: typeof values.module === 'string' ? values.module : undefined,
      };
      // loaded on demand: the simulator kit (express, zod, OpenTelemetry) is not needed by other commands
      const { sim } = await import('./sim.ts');
      return sim({
        ...io,
        name,
        ...options,
      });
    },
  },
};

function parseSeed(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seed = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || seed >= 2 ** 32) {
    throw new UsageError(`--seed must be a whole number from 0 to 4294967295, not "${value}"`);
  }
  return seed;
}

function parseCount(value: string | boolean | undefined, flag: string, max: number): number {
  if (value === undefined) return 0;
  const count = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || count > max)
    throw new UsageError(`${flag} takes a whole number from 0 to ${max}, not "${value}"`);
  return count;
}

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${value}"`);
  }
  return port;
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'planewright: integration-test harness and flow observability for SaaS control planes',
    '',
    'Usage: planewright <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Coming with later work: storm, report.',
    'Run `planewright <command> --help` for its options.',
    '',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  return [
    `planewright ${name}: ${command.summary}`,
    '',
    `Usage: ${command.usage}`,
    '',
    'Options:',
    ...command.optionHelp,
    '  -h, --help     show this help',
    '',
    ...command.notes,
    '',
  ].join('\n');
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr.write(
      `PW_USAGE: unknown command "${name}"; known commands: ${Object.keys(commands).join(', ')} (see planewright --help)\n`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options,
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
    if (values.help) {
      io.stdout.write(commandHelp(name, command));
      return 0;
    }
    return await command.run(values as Record<string, string | boolean | undefined>, io, positionals);
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (error instanceof PlanewrightError) {
      io.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (!usage) throw error;
    io.stderr.write(`PW_USAGE: ${(error as Error).message}; see planewright ${name} --help\n`);
    return 2;
  }
}
