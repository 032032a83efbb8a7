// The fault proxy as the harness starts it: a child process that prints its URL first.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Toxiproxy } from 'toxiproxy-node-client';
import { expect, test } from 'vitest';
import { faultProxyEntry } from '../index.ts';

test('prints its URL first, serves the API, and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [faultProxyEntry, '--port', '0', '--seed', '9'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  try {
    const [url] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const toxiproxy = new Toxiproxy(url);
    expect(JSON.parse(await toxiproxy.getVersion())).toHaveProperty('version');
    const proxy = await toxiproxy.createProxy({
      name: 'child',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:9',
    });
    expect(proxy.enabled).toBe(true);
    expect(stderr).toContain('seed 9');
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toEqual([0, null]);
});

test('a bad option exits 2 with the reason', async () => {
  const child = spawn(process.execPath, [faultProxyEntry, '--port', 'many'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  expect(code).toBe(2);
  expect(stderr).toContain('PW_FAULT_PROXY_BAD_OPTION: --port many is not a number');
});
