// One client connection through a proxy: the accepted socket, a socket to the upstream, and a
// link each way. It ends when both sockets have closed: after a close each way (FIN passed on),
// a toxic's close (both sockets ended, then destroyed), a reset (RST both ways), an error, or
// its proxy being disabled (both destroyed). Every timer a toxic sets is kept here and cleared
// when the connection ends.
import { connect, type Socket } from 'node:net';
import type { HostPort } from './addresses.ts';
import type { FaultProxyDecision, FaultProxyJournalEntry } from './journal.ts';
import { Link, type LinkHost } from './link.ts';
import type { Toxic } from './toxics.ts';

export interface ConnectionLimits {
  /** Bytes a stage may queue before the link stops reading its source. */
  stageBufferBytes: number;
  /** How long the upstream has to accept the connection. */
  connectTimeoutMs: number;
  /** After a toxic closes the connection, how long the sockets may take to flush before they are destroyed. */
  closeGraceMs: number;
}

/** What a connection needs from its proxy. */
export interface ConnectionOwner {
  readonly name: string;
  readonly seed: number;
  readonly limits: ConnectionLimits;
  toxics(): readonly Toxic[];
  record(entry: Omit<FaultProxyJournalEntry, 'seq' | 'at'>): void;
  /** Both sockets have closed. */
  ended(connection: Connection): void;
}

export class Connection implements LinkHost {
  readonly ordinal: number;
  readonly seed: number;
  readonly proxyName: string;
  readonly stageBufferBytes: number;
  readonly #owner: ConnectionOwner;
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #timers = new Set<NodeJS.Timeout>();
  #links: Link[] = [];
  #closed = false;
  #ended = false;
  #openSockets = 2;

  constructor(owner: ConnectionOwner, client: Socket, upstream: HostPort, ordinal: number) {
    this.#owner = owner;
    this.ordinal = ordinal;
    this.seed = owner.seed;
    this.proxyName = owner.name;
    this.stageBufferBytes = owner.limits.stageBufferBytes;
    this.#client = client;
    client.setNoDelay(true);
    this.#upstream = connect({
      host: upstream.host,
      port: upstream.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    for (const socket of [client, this.#upstream]) {
      socket.on('error', () => this.destroy());
      socket.once('close', () => {
        if (--this.#openSockets === 0) this.#end();
      });
    }
    // as Toxiproxy: the client is accepted first, and closed if the upstream cannot be reached
    const cancel = this.schedule(owner.limits.connectTimeoutMs, () => this.destroy());
    this.#upstream.once('connect', () => {
      cancel();
      if (this.#closed) return;
      const toxics = owner.toxics();
      this.#links = [
        new Link(this, 'upstream', client, this.#upstream, toxics),
        new Link(this, 'downstream', this.#upstream, client, toxics),
      ];
      client.resume();
    });
  }

  /** True once data has stopped moving (closed, reset or destroyed). */
  get closed(): boolean {
    return this.#closed;
  }

  addToxic(toxic: Toxic): void {
    for (const link of this.#links) link.addToxic(toxic);
  }

  updateToxic(toxic: Toxic): void {
    for (const link of this.#links) if (link.direction === toxic.direction) link.updateToxic(toxic);
  }

  removeToxic(toxic: Toxic): void {
    for (const link of this.#links) if (link.direction === toxic.direction) link.removeToxic(toxic.name);
  }

  /** A toxic's close: both sockets flush what they were given, send FIN, and are destroyed. */
  close(): void {
    if (!this.#stop()) return;
    for (const socket of [this.#client, this.#upstream]) {
      if (socket.destroyed) continue;
      const destroy = () => socket.destroy();
      socket.end(destroy);
      this.schedule(this.#owner.limits.closeGraceMs, destroy);
    }
  }

  /** reset_peer: RST to both sides. */
  reset(): void {
    if (!this.#stop()) return;
    for (const socket of [this.#client, this.#upstream]) {
      if (socket.destroyed) continue;
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    }
  }

  /** The proxy was disabled or removed, or a socket failed: both sockets go now. */
  destroy(): void {
    this.#stop();
    this.#client.destroy();
    this.#upstream.destroy();
  }

  fail(_error: unknown): void {
    this.destroy();
  }

  schedule(ms: number, run: () => void): () => void {
    if (this.#ended) return () => {};
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    };
  }

  record(toxic: Toxic, decision: FaultProxyDecision, draw?: number): void {
    this.#owner.record({
      proxy: this.proxyName,
      toxic: toxic.name,
      type: toxic.type,
      stream: toxic.direction,
      connection: this.ordinal,
      decision,
      ...(draw === undefined ? {} : { toxicity: toxic.toxicity, draw }),
    });
  }

  // false when already stopped
  #stop(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    for (const link of this.#links) link.abort();
    return true;
  }

  #end(): void {
    this.#ended = true;
    this.#stop();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#owner.ended(this);
  }
}
