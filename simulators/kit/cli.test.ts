// `planewright sim` as a user runs it: the real bin/planewright.mjs in a child process, pointed at
// the example vendor with --module (the four vendor simulators live in their own folders).
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killSimClis, startSimCli } from './cli-testing.ts';

const example = fileURLToPath(new URL('./example/index.ts', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'pw-sim-cli-'));

function run(args: string[], env: Record<string, string> = {}) {
  return startSimCli(args, { env, cwd: folder });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

afterEach(killSimClis);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('planewright sim', () => {
  it('prints the URL on the first line, serves until SIGTERM, then stops cleanly', async () => {
    const port = await freePort();
    const sim = run(['example', '--module', example, '--port', String(port), '--seed', '77']);
    const url = await sim.firstLine();
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'example', seed: 77 });
    expect((await fetch(`${url}/v1/ping`)).status).toBe(200);
    expect(sim.stderr()).toMatch(/the example simulator is up at .* \(seed 77: pass --seed 77/);
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    expect(sim.stderr()).toMatch(/planewright: stopped/);
    await expect(fetch(`${url}/v1/ping`)).rejects.toThrow();
  });

  it('picks a free port and a random seed by default, and stops on SIGINT', async () => {
    const sim = run(['example', '--module', example]);
    const url = await sim.firstLine();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { seed } = (await (await fetch(`${url}/_sim/health`)).json()) as { seed: number };
    expect(sim.stderr()).toContain(`--seed ${seed}`);
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
  });

  it('a taken port exits 1 with PW_SIM_PORT_IN_USE', async () => {
    const first = run(['example', '--module', example]);
    const port = new URL(await first.firstLine()).port;
    const second = run(['example', '--module', example, '--port', port]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(new RegExp(`PW_SIM_PORT_IN_USE: port ${port} is taken; pass --port 0`));
  });

  it('usage errors exit 2: no name, two names, an unknown simulator, a bad seed or port', async () => {
    const cases: [string[], RegExp][] = [
      [[], /PW_USAGE: name the simulator: stripe, salesforce, auth or notify/],
      [['stripe', 'auth'], /PW_USAGE: one simulator at a time/],
      [
        ['paypal'],
        /PW_SIM_UNKNOWN: there is no simulator "paypal"; name one of stripe, salesforce, auth, notify/,
      ],
      [['stripe', '--seed', '-1'], /PW_USAGE: --seed must be a whole number|PW_USAGE: .*--seed/],
      [['stripe', '--seed', '4294967296'], /--seed must be a whole number from 0 to 4294967295/],
      [['stripe', '--port', 'x'], /--port must be a number/],
    ];
    for (const [args, message] of cases) {
      const sim = run(args);
      expect(await sim.exited, args.join(' ')).toBe(2);
      expect(sim.stderr()).toMatch(message);
    }
  });

  it('a simulator whose folder is not there yet exits 1 saying so (PLANEWRIGHT_SIMULATORS_DIR)', async () => {
    // all four simulators exist in this repository: point the CLI at a folder holding only notify
    const simulators = join(folder, 'some-simulators');
    mkdirSync(join(simulators, 'notify'), { recursive: true });
    writeFileSync(join(simulators, 'notify', 'index.ts'), 'export {};\n');
    const sim = run(['stripe'], { PLANEWRIGHT_SIMULATORS_DIR: 'some-simulators' });
    expect(await sim.exited).toBe(1);
    expect(sim.stderr()).toContain(
      `PW_SIM_UNKNOWN: the stripe simulator is not yet available (${join(simulators, 'stripe', 'index.ts')} is missing); available now: notify`,
    );
  });

  it('a module that is missing or exports no factory exits 1 naming the contract', async () => {
    const nowhere = run(['example', '--module', 'nowhere.ts']);
    expect(await nowhere.exited).toBe(1);
    expect(nowhere.stderr()).toMatch(/PW_SIM_UNKNOWN: .*nowhere\.ts does not exist/);
    const wrong = join(folder, 'wrong.ts');
    writeFileSync(wrong, 'export const createSomethingElse = () => null;\n');
    const noFactory = run(['example', '--module', wrong]);
    expect(await noFactory.exited).toBe(1);
    expect(noFactory.stderr()).toMatch(
      /PW_SIM_BAD_MODULE: .*wrong\.ts exports no function createExampleSimulator/,
    );
  });

  it('--help describes the command', async () => {
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toMatch(
      /Usage: planewright sim <stripe\|salesforce\|auth\|notify> \[--port N\] \[--seed N\]/,
    );
  });
});
