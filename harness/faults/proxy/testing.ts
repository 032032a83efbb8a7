// Helpers of the fault proxy's tests: small TCP servers to put behind a proxy, and a client that
// records what it received and how its connection ended.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TestServer {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that runs `onSocket` for each connection; close() destroys them all. */
export async function startTcpServer(onSocket: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes back what it reads, and closes its side when the client does. */
export const startEchoServer = () =>
  startTcpServer((socket) => {
    socket.pipe(socket);
  });

/** Sends `bytes` (0, 1, 2, … mod 256) to each client, then closes its side. */
export const startSendingServer = (bytes: number) =>
  startTcpServer((socket) => {
    socket.end(pattern(bytes));
  });

export function pattern(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = i % 256;
  return data;
}

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

/** What a client saw on one connection. */
export interface Received {
  data: Buffer;
  chunks: number;
  /** ms from connecting until the first byte, the end (FIN) and the close. */
  firstByteMs: number | undefined;
  endMs: number | undefined;
  closeMs: number;
  error: NodeJS.ErrnoException | undefined;
}

/** Connects to 127.0.0.1:`port`, sends `send` (then FIN when `end`), and records everything until close. */
export async function exchange(
  port: number,
  options: { send?: Buffer | string; end?: boolean; until?: (received: Buffer) => boolean } = {},
): Promise<Received> {
  const started = performance.now();
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const parts: Buffer[] = [];
  const result: Omit<Received, 'data' | 'closeMs'> = {
    chunks: 0,
    firstByteMs: undefined,
    endMs: undefined,
    error: undefined,
  };
  socket.on('data', (chunk: Buffer) => {
    result.firstByteMs ??= performance.now() - started;
    result.chunks++;
    parts.push(chunk);
    if (options.until?.(Buffer.concat(parts))) socket.destroy();
  });
  socket.on('end', () => {
    result.endMs = performance.now() - started;
    socket.end();
  });
  socket.on('error', (error) => {
    result.error = error;
  });
  socket.once('connect', () => {
    if (options.send !== undefined) socket.write(options.send);
    if (options.end) socket.end();
  });
  // not events.once: it would reject on the error this records
  await new Promise((resolve) => socket.once('close', resolve));
  return { ...result, data: Buffer.concat(parts), closeMs: performance.now() - started };
}

/** Connects and waits until connected; rejects with the connection error (ECONNREFUSED…). */
export async function connected(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}
