// vitest fixtures for scenarios (issue 6, item 11). Scopes: the run's Postgres per worker (the
// global setup's server and migrated template), one environment per test file (its own database,
// simulators and control plane), and a tenant per test (a fresh user owning a fresh organization),
// so tests of a file share the expensive parts and never each other's data.
//
// @example
//   import { scenario } from '../harness/fixtures.ts';
//   const test = scenario({ fleet: { agentsPerCell: 1 } });
//   test('a resource reaches its cell', async ({ controlPlane, fleet }) => { … });
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test as base, expect, inject } from 'vitest';
import { type Environment, type EnvironmentOptions, startEnvironment } from './env/environment.ts';
import { type StartedPostgres, startPostgres } from './env/postgres.ts';
import {
  type AppliedSchedule,
  applyFaultSchedule,
  collectJournal,
  type EnvironmentJournal,
  type FaultSchedule,
  loadFaultSchedule,
  parseFaultSchedule,
  replayReports,
  startReplay,
} from './faults/schedule.ts';

export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** The control plane's API over real HTTP, as one caller (a user's token, an API key or the admin token). */
export class ControlPlaneClient {
  readonly url: string;
  readonly token: string | undefined;

  constructor(url: string, token?: string) {
    this.url = url;
    this.token = token;
  }

  /** Another caller on the same control plane. */
  as(token: string | undefined): ControlPlaneClient {
    return new ControlPlaneClient(this.url, token);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get = <T = any>(path: string, headers?: Record<string, string>) =>
    this.request<T>('GET', path, undefined, headers);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  put = <T = any>(path: string, body?: unknown) => this.request<T>('PUT', path, body);
  patch = <T = any>(path: string, body?: unknown) => this.request<T>('PATCH', path, body);
  delete = <T = any>(path: string) => this.request<T>('DELETE', path);
}

/** A test's own tenant: a user of the auth simulator owning a fresh organization. */
export interface Tenant {
  orgId: string;
  email: string;
  sub: string;
  /** The owner's client; `/v1/orgs/{orgId}/…` is theirs. */
  client: ControlPlaneClient;
  /** `/v1/orgs/{orgId}` + path. */
  path(path: string): string;
}

export interface ScenarioFixtures {
  /** The control plane's API as this test's tenant owner (see `tenant` for the ids). */
  controlPlane: ControlPlaneClient;
  /** The platform operator's client (`/v1/admin/…`). */
  admin: ControlPlaneClient;
  tenant: Tenant;
  stripe: NonNullable<Environment['stripe']>;
  salesforce: NonNullable<Environment['salesforce']>;
  auth: NonNullable<Environment['auth']>;
  notify: NonNullable<Environment['notify']>;
  fleet: NonNullable<Environment['fleet']>;
  /** The trace collector of the file's environment and its store (`traces.store.waitFor`, `flowTimeline`). */
  traces: NonNullable<Environment['traces']>;
  /** The fault proxy between the fleet and the control plane. */
  faultProxy: NonNullable<Environment['faultProxy']>;
  /** Applies fault schedules to the file's environment (timers end with the test) and reads its journal. */
  faults: TestFaults;
}

export interface TestFaults {
  /** Applies a schedule (simulator rules, proxy toxics, fleet faults); resolves once it is in place. */
  apply(schedule: FaultSchedule): Promise<AppliedSchedule>;
  /** Every fault decision of the environment so far. */
  journal(): EnvironmentJournal;
}

interface FileFixtures {
  /** The whole environment of this test file. */
  env: Environment;
}

interface WorkerFixtures {
  postgres: StartedPostgres;
}

/** Where `planewright run` wants this file's journal and logs; undefined outside a run. */
function runContext() {
  const runDir = process.env.PLANEWRIGHT_RUN_DIR;
  if (!runDir) return undefined;
  const testPath = expect.getState().testPath ?? 'unknown';
  const root = process.env.PLANEWRIGHT_SCENARIO_ROOT ?? process.cwd();
  const fileKey = relative(root, testPath).replace(/[^A-Za-z0-9._-]+/g, '__');
  mkdirSync(join(runDir, 'journals'), { recursive: true });
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  mkdirSync(join(runDir, 'traces'), { recursive: true });
  return { runDir, fileKey, replayDir: process.env.PLANEWRIGHT_REPLAY_DIR };
}

/** The seed of this run (`PLANEWRIGHT_SEED`, set by `planewright run` and `replay`), if any. */
export const runSeed = (): number | undefined =>
  process.env.PLANEWRIGHT_SEED ? Number(process.env.PLANEWRIGHT_SEED) : undefined;

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined)
    throw new Error(`this scenario's environment has no ${what}: ask for it in scenario({ … })`);
  return value;
};

let tenants = 0;

/**
 * A vitest `test` whose fixtures run one environment per test file, built with `options`
 * (Postgres and the seed are the run's).
 */
export function scenario(options: Omit<EnvironmentOptions, 'postgres' | 'seed'> = {}) {
  return base.extend<{ $test: ScenarioFixtures; $file: FileFixtures; $worker: WorkerFixtures }>({
    postgres: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
      async ({}, use) => {
        // the run's server, started by the global setup: connected to, never stopped here
        await use(await startPostgres({ databaseUrl: inject('postgres').adminUrl }));
      },
      { scope: 'worker' },
    ],
    env: [
      async ({ postgres }, use) => {
        const run = runContext();
        const logLines: string[] = [];
        const env = await startEnvironment({
          ...options,
          seed: runSeed(),
          postgres: { server: postgres, template: inject('postgres').templateDatabase },
          // in a run, every span also goes to the run folder (traces/<file>.jsonl)
          ...(run && options.traces !== false
            ? {
                traces: {
                  ...(options.traces || {}),
                  recordTo: join(run.runDir, 'traces', `${run.fileKey}.jsonl`),
                },
              }
            : {}),
          onControlPlaneLine: (line) => {
            if (logLines.length < 50_000) logLines.push(line);
            options.onControlPlaneLine?.(line);
          },
        });
        try {
          // `planewright replay`: the recorded decisions; `run --faults`: the schedule
          if (run?.replayDir) {
            const recorded = join(run.replayDir, 'journals', `${run.fileKey}.json`);
            if (existsSync(recorded))
              startReplay(env, JSON.parse(readFileSync(recorded, 'utf8')) as EnvironmentJournal);
          } else if (process.env.PLANEWRIGHT_FAULTS) {
            await applyFaultSchedule(env, loadFaultSchedule(process.env.PLANEWRIGHT_FAULTS)).ready;
          }
          await use(env);
        } finally {
          if (run) {
            const base = join(run.runDir, 'journals', run.fileKey);
            writeFileSync(`${base}.json`, `${JSON.stringify(collectJournal(env))}\n`);
            if (run.replayDir)
              writeFileSync(`${base}.replay.json`, `${JSON.stringify(replayReports(env))}\n`);
            writeFileSync(
              join(run.runDir, 'logs', `${run.fileKey}.control-plane.log`),
              `${logLines.join('\n')}\n`,
            );
          }
          await env.stop();
        }
      },
      { scope: 'file' },
    ],
    tenant: async ({ env }, use) => {
      const controlPlane = need(env.controlPlane, 'control plane');
      tenants += 1;
      const user = await env.newUser(`tenant${tenants}`);
      const client = new ControlPlaneClient(controlPlane.url, user.token);
      const slug = `t${tenants}-${user.sub
        .slice(-8)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')}`;
      const org = await client.post('/v1/orgs', { name: `Tenant ${tenants}`, slug });
      if (org.status !== 201)
        throw new Error(`creating the test's organization failed: ${JSON.stringify(org.body)}`);
      await use({
        orgId: org.body.id,
        email: user.email,
        sub: user.sub,
        client,
        path: (path) => `/v1/orgs/${org.body.id}${path}`,
      });
    },
    controlPlane: async ({ tenant }, use) => use(tenant.client),
    admin: async ({ env }, use) =>
      use(new ControlPlaneClient(need(env.controlPlane, 'control plane').url, env.adminToken)),
    stripe: async ({ env }, use) => use(need(env.stripe, 'Stripe simulator')),
    salesforce: async ({ env }, use) => use(need(env.salesforce, 'Salesforce simulator')),
    auth: async ({ env }, use) => use(need(env.auth, 'auth simulator')),
    notify: async ({ env }, use) => use(need(env.notify, 'notify simulator')),
    fleet: async ({ env }, use) => use(need(env.fleet, 'fleet')),
    traces: async ({ env }, use) => use(need(env.traces, 'trace collector')),
    faultProxy: async ({ env }, use) => use(need(env.faultProxy, 'fault proxy')),
    faults: async ({ env }, use) => {
      const applied: AppliedSchedule[] = [];
      try {
        await use({
          async apply(schedule) {
            const handle = applyFaultSchedule(env, parseFaultSchedule(schedule, 'faults.apply()'));
            applied.push(handle);
            await handle.ready;
            return handle;
          },
          journal: () => collectJournal(env),
        });
      } finally {
        for (const handle of applied) handle.stop();
      }
    },
  });
}

/** Polls `check` until it returns something truthy; fails naming `what` at the deadline. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
