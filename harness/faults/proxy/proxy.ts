// One proxy: a listener on 127.0.0.1, the upstream it forwards to, its toxics and its open
// connections. Enabling listens (again on the same address); disabling stops listening and
// destroys every connection. Toxics added, updated or removed act on open connections too, as
// in Toxiproxy.
import { createServer, type Server, type Socket } from 'node:net';
import { type HostPort, listenHost, parseListen, parseUpstream, sameListen } from './addresses.ts';
import { badRequestBody, FaultProxyApiError, toxicNotFound } from './api-error.ts';
import { Connection, type ConnectionLimits, type ConnectionOwner } from './connection.ts';
import type { FaultProxyJournal, FaultProxyJournalEntry } from './journal.ts';
import { parseToxic, parseToxicUpdate, type Toxic, type ToxicView, toxicView } from './toxics.ts';

export interface ProxyLimits extends ConnectionLimits {
  maxToxicsPerProxy: number;
  /** More connections at once are closed as soon as they are accepted. */
  maxConnectionsPerProxy: number;
}

/** What every proxy shares. */
export interface ProxyContext {
  seed: number;
  journal: FaultProxyJournal;
  limits: ProxyLimits;
}

/** A proxy's JSON, field for field as Toxiproxy's. */
export interface ProxyView {
  name: string;
  /** `127.0.0.1:PORT` once it has listened (a port 0 is replaced by the port it got). */
  listen: string;
  upstream: string;
  enabled: boolean;
  /** Upstream toxics first, then downstream ones, each in the order added. */
  toxics: ToxicView[];
}

export class TcpProxy implements ConnectionOwner {
  readonly name: string;
  readonly seed: number;
  readonly limits: ProxyLimits;
  readonly #context: ProxyContext;
  readonly #connections = new Set<Connection>();
  #listen: string;
  #upstream: string;
  #upstreamAddress: HostPort;
  #server: Server | undefined;
  #toxics: Toxic[] = [];
  #connectionCount = 0;
  #revision = 0;

  /** `listen` and `upstream` must have been checked (parseListen, parseUpstream). */
  constructor(context: ProxyContext, fields: { name: string; listen: string; upstream: string }) {
    this.#context = context;
    this.seed = context.seed;
    this.limits = context.limits;
    this.name = fields.name;
    this.#listen = fields.listen;
    this.#upstream = fields.upstream;
    this.#upstreamAddress = parseUpstream(fields.upstream);
  }

  get enabled(): boolean {
    return this.#server !== undefined;
  }

  get listen(): string {
    return this.#listen;
  }

  get upstream(): string {
    return this.#upstream;
  }

  view(): ProxyView {
    return {
      name: this.name,
      listen: this.#listen,
      upstream: this.#upstream,
      enabled: this.enabled,
      toxics: this.toxicViews(),
    };
  }

  toxicViews(): ToxicView[] {
    const ordered = [
      ...this.#toxics.filter((toxic) => toxic.direction === 'upstream'),
      ...this.#toxics.filter((toxic) => toxic.direction === 'downstream'),
    ];
    return ordered.map(toxicView);
  }

  /** Listens on `listen`; a port 0 becomes the port it got. Idempotent. */
  async start(): Promise<void> {
    if (this.#server) return;
    const { port } = parseListen(this.#listen);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
      this.#accept(socket),
    );
    server.maxConnections = this.limits.maxConnectionsPerProxy;
    const address = await listen(server, port, this.#listen);
    this.#server = server;
    this.#listen = `${listenHost}:${address}`;
  }

  /** Stops listening and destroys every connection; resolves when all are gone. Idempotent. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.#connections) connection.destroy();
    await closed;
  }

  /** Toxiproxy's update: a new address restarts the proxy; `enabled` starts or stops it. */
  async update(input: { listen?: string; upstream?: string; enabled?: boolean }): Promise<void> {
    const listen = input.listen ?? this.#listen;
    const upstream = input.upstream ?? this.#upstream;
    const enabled = input.enabled ?? this.enabled;
    parseListen(listen);
    const upstreamAddress = parseUpstream(upstream);
    if ((listen !== this.#listen && !sameListen(listen, this.#listen)) || upstream !== this.#upstream) {
      await this.stop();
      this.#listen = listen;
      this.#upstream = upstream;
      this.#upstreamAddress = upstreamAddress;
    }
    if (enabled) await this.start();
    else await this.stop();
  }

  toxic(name: string): Toxic {
    const toxic = this.#toxics.find((candidate) => candidate.name === name);
    if (!toxic) throw toxicNotFound();
    return toxic;
  }

  addToxic(body: unknown): Toxic {
    const toxic = parseToxic(body, (name) => this.#toxics.some((t) => t.name === name), this.#revision + 1);
    if (this.#toxics.length >= this.limits.maxToxicsPerProxy) {
      throw badRequestBody(
        `proxy ${this.name} already has ${this.#toxics.length} toxics, the most allowed (maxToxicsPerProxy)`,
      );
    }
    this.#revision++;
    this.#toxics.push(toxic);
    for (const connection of this.#connections) connection.addToxic(toxic);
    return toxic;
  }

  updateToxic(name: string, body: unknown): Toxic {
    const current = this.toxic(name);
    const updated = parseToxicUpdate(body, current, this.#revision + 1);
    this.#revision++;
    this.#toxics[this.#toxics.indexOf(current)] = updated;
    for (const connection of this.#connections) connection.updateToxic(updated);
    return updated;
  }

  removeToxic(name: string): void {
    const toxic = this.toxic(name);
    this.#toxics = this.#toxics.filter((candidate) => candidate !== toxic);
    for (const connection of this.#connections) connection.removeToxic(toxic);
  }

  removeAllToxics(): void {
    for (const toxic of [...this.#toxics]) this.removeToxic(toxic.name);
  }

  // ConnectionOwner
  toxics(): readonly Toxic[] {
    return this.#toxics;
  }

  record(entry: Omit<FaultProxyJournalEntry, 'seq' | 'at'>): void {
    this.#context.journal.append(entry);
  }

  ended(connection: Connection): void {
    this.#connections.delete(connection);
  }

  #accept(socket: Socket): void {
    if (!this.#server) {
      socket.destroy();
      return;
    }
    this.#connectionCount++;
    this.#connections.add(new Connection(this, socket, this.#upstreamAddress, this.#connectionCount));
  }
}

function listen(server: Server, port: number, listenAs: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const taken = error.code === 'EADDRINUSE';
      reject(
        new FaultProxyApiError(
          taken ? 409 : 400,
          `listen tcp ${listenAs}: ${taken ? 'bind: address already in use' : error.message}`,
          taken ? 'choose another port, or port 0 for a free one' : undefined,
        ),
      );
    };
    server.once('error', failed);
    server.listen({ port, host: listenHost, exclusive: true }, () => {
      // later errors are failed accepts (EMFILE…): that client is gone, the proxy goes on
      server.off('error', failed).on('error', () => {});
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
