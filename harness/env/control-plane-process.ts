import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PlanewrightError } from '../errors.ts';
import { freePort } from './postgres.ts';

const serverEntry = fileURLToPath(new URL('../../control-plane/src/server.ts', import.meta.url));

export interface ControlPlaneProcessOptions {
  /** The control plane's environment (DATABASE_URL, AUTH_JWKS_URL, …); PORT is chosen here. */
  env: Record<string, string>;
  /** Default: a free port, kept across restarts. */
  port?: number;
  /** How long to wait for /readyz. Default 20 s. */
  readyTimeoutMs?: number;
  /** Called with every line the process prints. */
  onLine?: (line: string) => void;
}

/** The control plane running as a child process, so tests can SIGKILL and restart it. */
export interface ControlPlaneProcess {
  readonly url: string;
  readonly pid: number;
  /** The last lines the process printed (stdout and stderr). */
  logs(): string[];
  /** Sends `signal` and waits for the process to exit; answers its exit code or signal. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** Starts the process again on the same port and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM (graceful), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startControlPlaneProcess(
  options: ControlPlaneProcessOptions,
): Promise<ControlPlaneProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  let child: ChildProcess;
  let exited: Promise<number | string>;

  const launch = async () => {
    child = spawn(process.execPath, [serverEntry], {
      env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? 0)));
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        for (const line of parts) {
          lines.push(line);
          if (lines.length > 200) lines.shift();
          options.onLine?.(line);
        }
      });
    }
    await waitReady(url, options.readyTimeoutMs ?? 20_000, exited, () => lines);
  };
  await launch();

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const stop = async (timeoutMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    url,
    get pid() {
      return child.pid!;
    },
    logs: () => [...lines],
    kill,
    restart: async () => {
      await kill('SIGKILL');
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: () => stop(),
  };
}

async function waitReady(
  url: string,
  timeoutMs: number,
  exited: Promise<number | string>,
  logs: () => string[],
) {
  const deadline = Date.now() + timeoutMs;
  let gone: number | string | undefined;
  void exited.then((code) => {
    gone = code;
  });
  while (Date.now() < deadline) {
    if (gone !== undefined) {
      throw new PlanewrightError(
        'PW_CONTROL_PLANE_EXITED',
        `the control plane exited (${gone}) before it was ready; its last lines:\n${logs().slice(-20).join('\n')}`,
        'fix the configuration it names, or run it alone with `node control-plane/src/server.ts`',
      );
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new PlanewrightError(
    'PW_CONTROL_PLANE_NOT_READY',
    `the control plane at ${url} was not ready within ${timeoutMs} ms; its last lines:\n${logs().slice(-20).join('\n')}`,
    'check that Postgres is reachable from DATABASE_URL',
  );
}
