// Each toxic measured on real traffic through a real proxy. Timings are lower bounds with a
// margin (a loaded CI machine is only ever slower), never upper bounds.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seededRandom } from '../../../simulators/kit/index.ts';
import { type StartedFaultProxy, startFaultProxy } from '../index.ts';
import { sliceEnds } from './behaviors.ts';
import {
  connected,
  exchange,
  pattern,
  portOf,
  startEchoServer,
  startSendingServer,
  startTcpServer,
  type TestServer,
} from './testing.ts';

let faults: StartedFaultProxy;
let toxiproxy: Toxiproxy;
const servers: TestServer[] = [];

beforeAll(async () => {
  faults = await startFaultProxy({ seed: 2 });
  toxiproxy = new Toxiproxy(faults.url);
});
afterAll(async () => {
  await faults?.close();
  await Promise.all(servers.map((server) => server.close()));
});

let counter = 0;

/** A proxy in front of `server`, with one toxic; returns the port to connect to. */
async function proxyWith(
  server: TestServer,
  toxic: { type: string; stream?: string; attributes: Record<string, number>; toxicity?: number },
) {
  servers.push(server);
  const proxy = await toxiproxy.createProxy({
    name: `toxic_${++counter}`,
    listen: '127.0.0.1:0',
    upstream: server.address,
  });
  await proxy.addToxic({
    name: toxic.type,
    type: toxic.type as 'latency',
    stream: (toxic.stream ?? 'downstream') as 'downstream',
    toxicity: toxic.toxicity ?? 1,
    attributes: toxic.attributes as never,
  });
  return { port: portOf(proxy.listen), proxy };
}

/** Time of one echo round trip of `message` on an open socket. */
async function roundTripMs(socket: Socket, message: string): Promise<number> {
  const started = performance.now();
  let received = '';
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= message.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(message);
  await done;
  expect(received).toBe(message);
  return performance.now() - started;
}

describe('latency', () => {
  test('adds at least `latency` ms to each direction it is on', async () => {
    const { port, proxy } = await proxyWith(await startEchoServer(), {
      type: 'latency',
      attributes: { latency: 150, jitter: 0 },
    });
    const socket = await connected(port);
    expect(await roundTripMs(socket, 'ping')).toBeGreaterThanOrEqual(140);
    // upstream as well: both directions now
    await proxy.addToxic({
      name: 'up',
      type: 'latency',
      stream: 'upstream',
      toxicity: 1,
      attributes: { latency: 100, jitter: 0 },
    });
    expect(await roundTripMs(socket, 'pong')).toBeGreaterThanOrEqual(240);
    socket.destroy();
  });

  test('removing it lets traffic through at once', async () => {
    const { port, proxy } = await proxyWith(await startEchoServer(), {
      type: 'latency',
      attributes: { latency: 20_000, jitter: 0 },
    });
    const socket = await connected(port);
    const pending = roundTripMs(socket, 'hurry');
    await sleep(100);
    await (await proxy.getToxic('latency')).remove();
    // 20 s had the toxic stayed: a bound this loose cannot flake
    const ms = await pending;
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(10_000);
    socket.destroy();
  });
});

describe('bandwidth', () => {
  test('caps throughput at about `rate` KB/s', async () => {
    const bytes = 60_000;
    const { port } = await proxyWith(await startSendingServer(bytes), {
      type: 'bandwidth',
      attributes: { rate: 100 },
    });
    const received = await exchange(port);
    expect(received.data.equals(pattern(bytes))).toBe(true);
    // 60 KB at 100 KB/s is 600 ms
    expect(received.endMs).toBeGreaterThanOrEqual(500);
  });
});

describe('slow_close', () => {
  test('holds the close for `delay` ms, the data passes at once', async () => {
    const { port } = await proxyWith(await startTcpServer((socket) => socket.end('bye')), {
      type: 'slow_close',
      attributes: { delay: 400 },
    });
    const received = await exchange(port);
    expect(received.data.toString()).toBe('bye');
    expect(received.endMs! - received.firstByteMs!).toBeGreaterThanOrEqual(380);
  });
});

describe('timeout', () => {
  test('drops the data, then closes after `timeout` ms', async () => {
    const { port } = await proxyWith(await startEchoServer(), {
      type: 'timeout',
      attributes: { timeout: 300 },
    });
    const received = await exchange(port, { send: 'anyone?' });
    expect(received.data.length).toBe(0);
    expect(received.closeMs).toBeGreaterThanOrEqual(280);
  });

  test('0 holds the connection until the toxic is removed, which closes it', async () => {
    const { port, proxy } = await proxyWith(await startEchoServer(), {
      type: 'timeout',
      attributes: { timeout: 0 },
    });
    const pending = exchange(port, { send: 'anyone?' });
    await sleep(500);
    await (await proxy.getToxic('timeout')).remove();
    const received = await pending;
    expect(received.data.length).toBe(0);
    expect(received.closeMs).toBeGreaterThanOrEqual(480);
    const decisions = faults.journal().entries.filter((entry) => entry.proxy === proxy.name);
    expect(decisions.map((entry) => entry.decision)).toEqual(['applied', 'closed_on_removal']);
  });
});

describe('reset_peer', () => {
  test('resets the connection (ECONNRESET) after `timeout` ms', async () => {
    const { port } = await proxyWith(await startEchoServer(), {
      type: 'reset_peer',
      stream: 'upstream',
      attributes: { timeout: 200 },
    });
    const received = await exchange(port, { send: 'hello' });
    expect(received.error?.code).toBe('ECONNRESET');
    expect(received.data.length).toBe(0);
    expect(received.closeMs).toBeGreaterThanOrEqual(190);
  });

  test('resets at once with timeout 0', async () => {
    const { port } = await proxyWith(await startEchoServer(), {
      type: 'reset_peer',
      attributes: { timeout: 0 },
    });
    const received = await exchange(port, { send: 'hello' });
    expect(received.error?.code).toBe('ECONNRESET');
  });
});

describe('slicer', () => {
  test('delivers the same bytes in many small chunks', async () => {
    const bytes = 2_000;
    const { port } = await proxyWith(await startSendingServer(bytes), {
      type: 'slicer',
      attributes: { average_size: 50, size_variation: 20, delay: 2_000 },
    });
    const received = await exchange(port);
    expect(received.data.equals(pattern(bytes))).toBe(true);
    // about 40 slices, 2 ms apart; direct, 2 KB arrive in one chunk
    expect(received.chunks).toBeGreaterThanOrEqual(10);
  });
});

describe('limit_data', () => {
  test('lets `bytes` through, then closes', async () => {
    const { port } = await proxyWith(await startSendingServer(10_000), {
      type: 'limit_data',
      attributes: { bytes: 1_234 },
    });
    const received = await exchange(port);
    expect(received.data.equals(pattern(1_234))).toBe(true);
    expect(received.error).toBeUndefined();
  });

  test('counts across chunks, upstream too', async () => {
    const seen: Buffer[] = [];
    const sink = await startTcpServer((socket) => {
      socket.on('data', (chunk: Buffer) => seen.push(chunk));
    });
    const { port } = await proxyWith(sink, {
      type: 'limit_data',
      stream: 'upstream',
      attributes: { bytes: 10 },
    });
    const socket = await connected(port);
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('12345');
    await sleep(50);
    socket.write('67890abcdef');
    await closed;
    await sleep(50);
    expect(Buffer.concat(seen).toString()).toBe('1234567890');
  });
});

describe('toxicity', () => {
  test('0 never acts, 1 always does', async () => {
    const never = await proxyWith(await startEchoServer(), {
      type: 'timeout',
      toxicity: 0,
      attributes: { timeout: 0 },
    });
    expect((await exchange(never.port, { send: 'through', end: true })).data.toString()).toBe('through');
    const skipped = faults.journal().entries.filter((entry) => entry.proxy === never.proxy.name);
    expect(skipped).toMatchObject([
      { decision: 'skipped', toxicity: 0, connection: 1, stream: 'downstream' },
    ]);
  });
});

describe('connections', () => {
  test('one whose upstream is not there is accepted, then closed', async () => {
    const gone = await startEchoServer();
    const { port } = await proxyWith(gone, { type: 'latency', attributes: { latency: 0, jitter: 0 } });
    await gone.close();
    const received = await exchange(port, { send: 'hello?' });
    expect(received.data.length).toBe(0);
  });

  test('close() ends every connection, listener and timer', async () => {
    const kinds = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'];
    const count = () => process.getActiveResourcesInfo().filter((kind) => kinds.includes(kind)).length;
    const echo = await startEchoServer();
    const before = count();
    const own = await startFaultProxy({ seed: 3 });
    const client = new Toxiproxy(own.url);
    const proxy = await client.createProxy({
      name: 'teardown',
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    await proxy.addToxic({
      name: 'hold',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 60_000, jitter: 0 },
    });
    await proxy.addToxic({
      name: 'quiet',
      type: 'timeout',
      stream: 'upstream',
      toxicity: 1,
      attributes: { timeout: 60_000 },
    });
    const pending = [
      exchange(portOf(proxy.listen), { send: 'a' }),
      exchange(portOf(proxy.listen), { send: 'b' }),
    ];
    await sleep(100);
    expect(count()).toBeGreaterThan(before);
    await own.close();
    await Promise.all(pending);
    await echo.close();
    // the echo server was counted in `before`; everything else must be gone
    for (let tries = 0; count() > before - 1 && tries < 100; tries++) await sleep(10);
    expect(count()).toBeLessThanOrEqual(before - 1);
  });
});

describe('sliceEnds', () => {
  test('cuts every length into pieces that cover it, each within average ± variation or smaller', () => {
    const random = seededRandom(1, 'slices');
    for (const [length, average, variation] of [
      [1, 1, 0],
      [100, 1, 0],
      [100, 1, 1],
      [65_536, 10, 10],
      [1_000, 300, 0],
    ] as const) {
      const ends = sliceEnds(length, average, variation, random);
      expect(ends.at(-1)).toBe(length);
      let start = 0;
      for (const end of ends) {
        expect(end - start).toBeGreaterThan(0);
        expect(end - start).toBeLessThanOrEqual(average + variation);
        start = end;
      }
    }
  });
});
