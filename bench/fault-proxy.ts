// Fault proxy benchmark: what a proxy with no toxics costs, against connecting directly, on
// 127.0.0.1. The fault proxy runs as the harness runs it (a child process: harness/faults/proxy/
// child.ts); upstream servers and the client share this process. Measured: throughput of one
// connection each way (a server sends, or swallows, --mb MiB), the round-trip time of a small
// message on an open connection (--round-trips, after a warm-up), and the time to connect and do
// one round trip (--connections, one after another). Prints JSON.
// Usage: node bench/fault-proxy.ts [--mb 256] [--round-trips 5000] [--connections 500]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Toxiproxy } from 'toxiproxy-node-client';
import { faultProxyEntry } from '../harness/faults/index.ts';
import { percentile } from './support.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256' },
    'round-trips': { type: 'string', default: '5000' },
    connections: { type: 'string', default: '500' },
  },
});
const bytes = Number(values.mb) * 1024 * 1024;
const roundTrips = Number(values['round-trips']);
const connections = Number(values.connections);
const message = Buffer.alloc(64, 'x');
const block = Buffer.alloc(64 * 1024, 'y');

async function serve(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

// sends `bytes` to each client, honouring backpressure
const source = await serve((socket) => {
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) return socket.once('drain', pump);
    }
    socket.end();
  };
  socket.on('error', () => {});
  pump();
});
// swallows what it is sent, answers "ok" at the end
const sink = await serve((socket) => {
  socket.on('error', () => {});
  socket.resume();
  socket.on('end', () => socket.end('ok'));
});
const echo = await serve((socket) => {
  socket.on('error', () => {});
  socket.pipe(socket);
});

const child = spawn(process.execPath, [faultProxyEntry, '--seed', '1'], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
// its stderr only matters if it fails
let childLog = '';
child.stderr.on('data', (chunk) => {
  childLog += chunk;
});
child.once('exit', (code) => {
  if (code !== 0 && code !== null) process.stderr.write(childLog);
});
const [adminUrl] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
const toxiproxy = new Toxiproxy(adminUrl);
const proxied = async (name: string, port: number) =>
  Number(
    (
      await toxiproxy.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` })
    ).listen.split(':')[1],
  );
const through = {
  source: await proxied('source', source.port),
  sink: await proxied('sink', sink.port),
  echo: await proxied('echo', echo.port),
};

async function open(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  return socket;
}

async function download(port: number): Promise<number> {
  const started = performance.now();
  const socket = await open(port);
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
  });
  await once(socket, 'end');
  socket.destroy();
  if (received !== bytes) throw new Error(`received ${received} bytes of ${bytes}`);
  return bytes / 1024 / 1024 / ((performance.now() - started) / 1000);
}

async function upload(port: number): Promise<number> {
  const started = performance.now();
  const socket = await open(port);
  socket.resume();
  for (let sent = 0; sent < bytes; sent += block.length) {
    if (!socket.write(block)) await once(socket, 'drain');
  }
  socket.end();
  await once(socket, 'close');
  return bytes / 1024 / 1024 / ((performance.now() - started) / 1000);
}

function roundTrip(socket: Socket): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received < message.length) return;
      socket.off('data', onData);
      resolve(performance.now() - started);
    };
    socket.on('data', onData);
    socket.write(message);
  });
}

async function roundTripTimes(port: number): Promise<number[]> {
  const socket = await open(port);
  for (let i = 0; i < 500; i++) await roundTrip(socket);
  const times: number[] = [];
  for (let i = 0; i < roundTrips; i++) times.push(await roundTrip(socket));
  socket.destroy();
  return times;
}

async function connectTimes(port: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < connections; i++) {
    const started = performance.now();
    const socket = await open(port);
    await roundTrip(socket);
    times.push(performance.now() - started);
    socket.destroy();
  }
  return times;
}

const best = async (run: () => Promise<number>) => Math.max(await run(), await run(), await run());
const mbPerS = (value: number) => Math.round(value);
const us = (ms: number) => Math.round(ms * 1000);
const latency = (direct: number[], viaProxy: number[]) => {
  const [d50, d99, p50, p99] = [
    percentile(direct, 50),
    percentile(direct, 99),
    percentile(viaProxy, 50),
    percentile(viaProxy, 99),
  ];
  return {
    direct: { p50Us: us(d50), p99Us: us(d99) },
    proxied: { p50Us: us(p50), p99Us: us(p99) },
    addedP50Us: us(p50 - d50),
    addedP99Us: us(p99 - d99),
  };
};

try {
  const downloadDirect = await best(() => download(source.port));
  const downloadProxied = await best(() => download(through.source));
  const uploadDirect = await best(() => upload(sink.port));
  const uploadProxied = await best(() => upload(through.sink));
  const result = {
    benchmark: 'fault-proxy',
    node: process.version,
    toxics: 0,
    throughput: {
      mib: bytes / 1024 / 1024,
      download: {
        directMiBps: mbPerS(downloadDirect),
        proxiedMiBps: mbPerS(downloadProxied),
        ratio: Math.round((downloadProxied / downloadDirect) * 100) / 100,
      },
      upload: {
        directMiBps: mbPerS(uploadDirect),
        proxiedMiBps: mbPerS(uploadProxied),
        ratio: Math.round((uploadProxied / uploadDirect) * 100) / 100,
      },
    },
    roundTrip: {
      count: roundTrips,
      bytes: message.length,
      ...latency(await roundTripTimes(echo.port), await roundTripTimes(through.echo)),
    },
    connectAndRoundTrip: {
      count: connections,
      ...latency(await connectTimes(echo.port), await connectTimes(through.echo)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  for (const { server } of [source, sink, echo]) server.close();
}
