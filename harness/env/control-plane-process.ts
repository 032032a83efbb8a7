// The control plane as a child process (control-plane/src/server.ts), so it can be stopped,
// killed and restarted like a deployed one. Its output is kept line by line: the last lines go
// into the error when it does not come up.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PlanewrightError } from '../errors.ts';
import { freePort } from './postgres.ts';

/** Where started control planes keep Node's compile cache (NODE_COMPILE_CACHE overrides it). */
export const compileCacheDir = join(tmpdir(), 'planewright-node-compile-cache');

export const serverEntry = fileURLToPath(new URL('../../control-plane/src/server.ts', import.meta.url));

export interface ControlPlaneProcessOptions {
  /** The control plane's environment (see control-plane/src/config.ts), over this process's; `undefined` removes a variable. */
  env: Record<string, string | undefined>;
  /** Port to listen on, kept across restarts. Default: `env.PORT` when it is not 0, else a free port. */
  port?: number;
  /** Called with every line the process writes to stdout or stderr. */
  onLine?: (line: string) => void;
  /** How long to wait for /readyz. Default: 30 s. */
  readyTimeoutMs?: number;
  /** Where the full log is, named in errors. */
  logHint?: string;
  /** Node options before the entry point (e.g. `--import` of the vendor-host interception preload). */
  execArgv?: string[];
}

export interface ControlPlaneExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ControlPlaneProcess {
  readonly url: string;
  readonly pid: number;
  /** Resolves when the current process has exited and all its output was read. */
  readonly exited: Promise<ControlPlaneExit>;
  /** The last `count` lines of output. */
  lastLines(count?: number): string[];
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ControlPlaneExit>;
  /** Kills the process if it still runs, starts it again on the same port and waits until ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL if it is still running after `timeoutMs`; resolves when it has exited. */
  stop(timeoutMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const keptLines = 200;

/** Starts the control plane and resolves once it answers /readyz; rejects with its last log lines. */
export async function startControlPlaneProcess(
  options: ControlPlaneProcessOptions,
): Promise<ControlPlaneProcess> {
  const port = options.port || Number(options.env.PORT) || (await freePort());
  const host = '127.0.0.1';
  const url = `http://${host}:${port}`;
  const lines: string[] = [];
  const lastLines = (count = 20) => lines.filter((line) => line.trim() !== '').slice(-count);
  let child!: ChildProcess;
  let exited!: Promise<ControlPlaneExit>;

  const launch = async () => {
    child = spawn(process.execPath, [...(options.execArgv ?? []), serverEntry], {
      env: {
        // Node's compile cache keeps the stripped TypeScript and V8's code for the next start:
        // a control plane then loads its modules in about a fifth of the time (bench/environment.ts)
        NODE_COMPILE_CACHE: compileCacheDir,
        ...process.env,
        ...options.env,
        PORT: String(port),
        HOST: host,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) collectLines(stream, lines, options.onLine);
    // 'close' rather than 'exit': by then every line it wrote has been read
    exited = once(child, 'close').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    const outcome = await waitUntilReady(url, exited, readyTimeoutMs);
    if (outcome === 'ready') return;
    await stopChild(child, exited, 2_000);
    const log = `its last log lines:\n${lastLines()
      .map((line) => `    ${line}`)
      .join('\n')}\n`;
    const hint = options.logHint ? `the full log is in ${options.logHint}` : 'fix the cause above and retry';
    throw outcome === 'exited'
      ? new PlanewrightError(
          'PW_CONTROL_PLANE_START_FAILED',
          `the control plane exited (${child.exitCode ?? child.signalCode}) before it was ready; ${log}`,
          hint,
        )
      : new PlanewrightError(
          'PW_CONTROL_PLANE_NOT_READY',
          `the control plane did not answer ${url}/readyz within ${readyTimeoutMs} ms; ${log}`,
          hint,
        );
  };
  await launch();

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const stop = (timeoutMs = 15_000) => stopChild(child, exited, timeoutMs);
  return {
    url,
    get pid() {
      return child.pid ?? -1;
    },
    get exited() {
      return exited;
    },
    lastLines,
    kill,
    restart: async () => {
      await kill('SIGKILL');
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

function collectLines(stream: NodeJS.ReadableStream, lines: string[], onLine?: (line: string) => void) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (lines.length > keptLines) lines.shift();
      onLine?.(line);
    }
  });
}

async function waitUntilReady(url: string, exited: Promise<unknown>, timeoutMs: number) {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (gone) return 'exited';
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return 'ready';
    await sleep(25);
  }
  return 'timeout';
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killed = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(killed);
}
