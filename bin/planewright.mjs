#!/usr/bin/env node
// The `planewright` command. Plain JavaScript on purpose: it must start under any Node ≥ 18 (CI
// and fresh laptops often have Node 20), while the CLI itself is TypeScript that only a Node
// able to strip types (≥ 22.18) can load. On an older Node it re-runs itself with the Node the
// project pins as a devDependency (installed by `npm ci`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const relaunchedVariable = 'PLANEWRIGHT_RELAUNCHED';

/** 'strip' or 'transform' where Node runs .ts files as they are; false or absent elsewhere. */
function canStripTypes() {
  return Boolean(process.features?.typescript);
}

function pinnedNode() {
  const candidates = [
    join(root, 'node_modules', 'node', 'bin', 'node'),
    join(root, 'node_modules', '.bin', 'node'),
  ];
  return candidates.find((path) => existsSync(path));
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function relaunch(node) {
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [relaunchedVariable]: '1' },
  });
  // Ctrl-C already reaches the child through the terminal's process group; a supervisor's SIGTERM
  // reaches only this process, so every signal is passed on (the CLI ignores a repeated one)
  const forward = (signal) => child.kill(signal);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (error) =>
    fail(`PW_NODE_LAUNCH_FAILED: cannot run ${node} (${error.message}); run \`npm ci\` again`),
  );
  child.on('exit', (code, signal) => {
    for (const each of signals) process.off(each, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

if (canStripTypes()) {
  const { main } = await import('../harness/cli/main.ts');
  process.exit(await main(process.argv.slice(2)));
} else {
  const node = process.env[relaunchedVariable] ? undefined : pinnedNode();
  if (!node) {
    fail(
      `PW_NODE_TOO_OLD: Node ${process.version} cannot run Planewright's TypeScript (it needs Node ≥ 22.18) ` +
        `and the project's pinned Node is not installed; run \`npm ci\` in ${root} (it installs Node 24 ` +
        'into node_modules) or use Node ≥ 22.18',
    );
  }
  relaunch(node);
}
