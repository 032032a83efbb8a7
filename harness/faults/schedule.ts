// Fault schedules (issue 6, item 4): which component, which requests, what fault, from when, for
// how long — TypeScript objects, or the same as a JSON or YAML file for the CLI. Applied through
// the simulators' fault controllers (the same rules as POST /_sim/faults), the fault proxy's
// Toxiproxy API and the fleet. Every
// decision they take is journaled; `collectJournal` gathers them for the run folder and
// `startReplay` makes the simulators take the recorded decisions again (matched by request
// fingerprint and occurrence, not timing).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { FaultRuleInput, JournalDocument, ReplayReport } from '../../simulators/kit/index.ts';
import type { Environment, SimulatorName } from '../env/environment.ts';
import { PlanewrightError } from '../errors.ts';

const simulatorFault = z
  .object({
    component: z.enum(['stripe', 'salesforce', 'auth', 'notify']),
    /** A fault rule of the kit (docs/simulators.md, "Fault rules"): match, fault, probability, count, window. */
    rule: z.record(z.string(), z.unknown()),
  })
  .strict();

const fleetFault = z
  .object({
    component: z.literal('fleet'),
    /** A fleet fault (docs/dataplane.md, the fleet simulator): crash, hang, slowApply, applyError, drift, partition. */
    fault: z.record(z.string(), z.unknown()),
    /** The share of the fleet's agents it hits, chosen with the run's seed. Default 1 (all). */
    share: z.number().min(0).max(1).optional(),
    /** Only agents of these cells. */
    cells: z.array(z.string()).optional(),
    /** When it starts, from the environment's start. Default at once. */
    afterMs: z.number().int().min(0).max(3_600_000).optional(),
  })
  .strict();

const proxyFault = z
  .object({
    component: z.literal('proxy'),
    /** The fault proxy's proxy; default `control-plane` (agents → control plane). */
    proxy: z.string().default('control-plane'),
    /** A Toxiproxy toxic: `{ name?, type, stream?, toxicity?, attributes }` (docs/faults.md). */
    toxic: z.object({ type: z.string() }).catchall(z.unknown()),
    afterMs: z.number().int().min(0).max(3_600_000).optional(),
    /** Removed after this long; default: stays. */
    forMs: z.number().int().min(1).max(3_600_000).optional(),
  })
  .strict();

export const faultScheduleSchema = z
  .object({
    /** Informational: what this schedule is for. */
    description: z.string().optional(),
    faults: z.array(z.discriminatedUnion('component', [simulatorFault, fleetFault, proxyFault])).max(1000),
  })
  .strict();

export type FaultSchedule = z.input<typeof faultScheduleSchema>;
export type ScheduledFault = FaultSchedule['faults'][number];

/** Reads a schedule from a `.json`, `.yaml` or `.yml` file; errors name the file and the bad entry. */
export function loadFaultSchedule(path: string): FaultSchedule {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PlanewrightError(
      'PW_FAULTS_UNREADABLE',
      `cannot read the fault schedule ${path}: ${(error as Error).message}`,
      'pass --faults with the path of a .json or .yaml file',
    );
  }
  let document: unknown;
  try {
    document = ['.yaml', '.yml'].includes(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new PlanewrightError(
      'PW_FAULTS_INVALID',
      `${path} is not valid ${extname(path).slice(1) || 'JSON'}: ${(error as Error).message}`,
    );
  }
  return parseFaultSchedule(document, path);
}

export function parseFaultSchedule(document: unknown, source = 'the fault schedule'): FaultSchedule {
  const parsed = faultScheduleSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PlanewrightError(
      'PW_FAULTS_INVALID',
      `${source}: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
      'see docs/faults.md for the schedule format',
    );
  }
  return parsed.data;
}

export interface AppliedSchedule {
  /** Cancels faults not started yet (started ones run their own course). */
  stop(): void;
  /** Resolves once the faults due at once are in place (proxy toxics are added over HTTP). */
  ready: Promise<void>;
}

/**
 * Applies a schedule to an environment. Simulator rules are added at once (their `window` says
 * when they act, on the simulator clock); fleet faults start after `afterMs`.
 */
export function applyFaultSchedule(env: Environment, schedule: FaultSchedule): AppliedSchedule {
  const timers: NodeJS.Timeout[] = [];
  const pending: Promise<void>[] = [];
  schedule.faults.forEach((entry, index) => {
    if (entry.component === 'proxy') {
      const proxy = env.faultProxy;
      if (!proxy) throw scheduleError(index, 'the environment has no fault proxy');
      const name = (entry.toxic.name as string | undefined) ?? `scheduled-${index}`;
      const base = `${proxy.url}/proxies/${encodeURIComponent(entry.proxy ?? 'control-plane')}/toxics`;
      const add = async () => {
        const response = await fetch(base, {
          method: 'POST',
          body: JSON.stringify({ ...entry.toxic, name }),
        });
        if (!response.ok)
          throw scheduleError(index, `the fault proxy refused the toxic: ${(await response.text()).trim()}`);
        if (entry.forMs)
          timers.push(
            setTimeout(() => {
              fetch(`${base}/${encodeURIComponent(name)}`, { method: 'DELETE' }).catch(() => {});
            }, entry.forMs).unref(),
          );
      };
      if (entry.afterMs) timers.push(setTimeout(() => add().catch(() => {}), entry.afterMs).unref());
      else pending.push(add());
      return;
    }
    if (entry.component === 'fleet') {
      const fleet = env.fleet;
      if (!fleet) throw scheduleError(index, 'the environment has no fleet');
      const inject = () =>
        fleet.inject(entry.fault as never, { share: entry.share ?? 1, cells: entry.cells, seed: env.seed });
      if (entry.afterMs) timers.push(setTimeout(inject, entry.afterMs).unref());
      else inject();
      return;
    }
    const simulator = env[entry.component];
    if (!simulator) throw scheduleError(index, `the environment has no ${entry.component} simulator`);
    try {
      simulator.faults.add(entry.rule as FaultRuleInput);
    } catch (error) {
      throw scheduleError(index, (error as Error).message);
    }
  });
  return {
    stop() {
      for (const timer of timers) clearTimeout(timer);
    },
    ready: Promise.all(pending).then(() => {}),
  };
}

const scheduleError = (index: number, message: string) =>
  new PlanewrightError('PW_FAULTS_INVALID', `faults[${index}]: ${message}`, 'see docs/faults.md');

/** Every fault decision of an environment: each simulator's journal and the fleet's. */
export interface EnvironmentJournal {
  seed: number;
  simulators: Partial<Record<SimulatorName, JournalDocument>>;
  fleet: unknown[];
  /** The fault proxy's decisions (recorded; not replayed: they depend on connection order). */
  proxy?: unknown;
}

export function collectJournal(env: Environment): EnvironmentJournal {
  const simulators: EnvironmentJournal['simulators'] = {};
  for (const name of ['stripe', 'salesforce', 'auth', 'notify'] as const) {
    const simulator = env[name];
    if (simulator) simulators[name] = simulator.journal.toJSON();
  }
  return {
    seed: env.seed,
    simulators,
    fleet: env.fleet ? [...env.fleet.journal] : [],
    ...(env.faultProxy ? { proxy: env.faultProxy.journal() } : {}),
  };
}

/** Puts each simulator into replay mode with its recorded journal. */
export function startReplay(env: Environment, recorded: EnvironmentJournal): void {
  for (const [name, journal] of Object.entries(recorded.simulators)) {
    const simulator = env[name as SimulatorName];
    if (!simulator)
      throw new PlanewrightError(
        'PW_REPLAY_MISMATCH',
        `the recorded run had a ${name} simulator; this environment has none`,
        'replay with the same scenarios and options as the recording',
      );
    simulator.faults.replay(journal);
  }
}

/** What each replaying simulator matched; `unmatched` lists recorded faults no request claimed. */
export function replayReports(env: Environment): Partial<Record<SimulatorName, ReplayReport>> {
  const reports: Partial<Record<SimulatorName, ReplayReport>> = {};
  for (const name of ['stripe', 'salesforce', 'auth', 'notify'] as const) {
    const report = env[name]?.faults.replayReport();
    if (report) reports[name] = report;
  }
  return reports;
}
