// For the simulators' CLI tests: `planewright sim …` as a user runs it, the real
// bin/planewright.mjs in a child process, with its output collected and every wait bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/planewright.mjs', import.meta.url));
const running = new Set<ChildProcess>();

export interface SimCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited and its output was read. */
  exited: Promise<number | null>;
  /** Waits (20 s at most) until `check` holds; the error shows everything printed. */
  until(check: () => boolean): Promise<void>;
  /** The first line of stdout (the simulator's URL). */
  firstLine(): Promise<string>;
}

/** Runs `planewright sim <args>` (LOG_LEVEL=warn unless `env` says otherwise). */
export function startSimCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): SimCli {
  const child = spawn(process.execPath, [bin, 'sim', ...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, 'close').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(
          `planewright sim ${args.join(' ')}: gave up waiting; it printed:\n${stdout}\n${stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    until,
    async firstLine() {
      await until(() => stdout.includes('\n'));
      return stdout.split('\n')[0]!;
    },
  };
}

/** SIGKILLs every CLI a test left running (call it in afterEach). */
export function killSimClis(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  running.clear();
}
