// One data-plane agent, speaking the agent gateway's documented HTTP API (docs/dataplane.md) like
// an agent in another codebase would: no control-plane import. Its loop: register (or reuse its
// credentials), hydrate from the snapshot, long-poll signed events, verify and apply each, report
// status, heartbeat; on any failure back off with the chosen strategy and carry on serving the
// local data plane.

import type { KeyObject } from 'node:crypto';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../kit/index.ts';
import { Backoff, type BackoffStrategy } from './backoff.ts';
import { HttpError, requestJson } from './http.ts';
import { LocalDataPlane, type LocalResource } from './local.ts';
import { type AgentEvent, type DesiredResource, pinKeys, type Rejection, verifyEvent } from './verify.ts';

export interface AgentCredentials {
  agentId: string;
  cell: string;
  token: string;
  /** SPKI PEMs of the control plane's event keys. */
  publicKeyPems: string[];
}

export interface AgentOptions {
  url: string;
  name?: string;
  /** Register with this (once) unless `credentials` are given. */
  bootstrapToken?: string;
  credentials?: AgentCredentials;
  /**
   * Keys pinned ahead of time. Without them the agent trusts the keys of its registration answer
   * (trust on first use over the operator-minted bootstrap token).
   */
  pinnedPublicKeyPems?: string[];
  strategy?: BackoffStrategy;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  seed?: number;
  /** Simulated time to apply one change on the data plane. Default 0. */
  applyMs?: number;
  /** Long-poll wait, ≤ 30,000. Default 10,000. */
  waitMs?: number;
  heartbeatMs?: number;
  /** Bound of every non-long-poll request. Default 10,000. */
  requestTimeoutMs?: number;
  /** A shared keep-alive pool (the fleet's). */
  httpAgent?: http.Agent;
}

export type AgentState = 'starting' | 'syncing' | 'inSync' | 'backingOff' | 'stopped';

export interface AgentStats {
  state: AgentState;
  /** The last request reached the control plane. */
  connected: boolean;
  appliedSequence: number;
  resources: number;
  errors: number;
  rejected: Partial<Record<Rejection, number>>;
  hydrations: number;
  /** Snapshots that named another epoch than the one followed: the cell's history restarted. */
  epochChanges: number;
  lastError?: string;
}

export class FleetAgent {
  readonly local = new LocalDataPlane();
  private readonly options: AgentOptions;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private credentials: AgentCredentials | undefined;
  private keys: Map<string, KeyObject> | undefined;
  private cursor = 0;
  // the history of the cell's sequences the cursor counts in: the epoch of the snapshot hydrated from
  private epoch: string | null | undefined;
  private etag: string | undefined;
  private needsSnapshot = true;
  private lastHeartbeat = 0;
  // reports not yet accepted, latest per resource: a failed POST must not lose a status, since the
  // cursor has already moved past the event that caused it
  private readonly pending = new Map<string, object>();
  private loop: Promise<void> | undefined;
  private readonly stats: AgentStats = {
    state: 'starting',
    connected: false,
    appliedSequence: 0,
    resources: 0,
    errors: 0,
    rejected: {},
    hydrations: 0,
    epochChanges: 0,
  };

  constructor(options: AgentOptions) {
    this.options = options;
    this.credentials = options.credentials;
    this.backoff = new Backoff({
      strategy: options.strategy ?? 'full-jitter',
      baseMs: options.backoffBaseMs ?? 100,
      capMs: options.backoffCapMs ?? 5_000,
      random: seededRandom(options.seed ?? 1, `agent:${options.name ?? 'agent'}`).float,
    });
    if (options.pinnedPublicKeyPems) this.keys = pinKeys(options.pinnedPublicKeyPems);
    else if (options.credentials) this.keys = pinKeys(options.credentials.publicKeyPems);
  }

  /** What the local data plane runs for a resource; answers whether or not the control plane is up. */
  get(resourceId: string): LocalResource | undefined {
    return this.local.get(resourceId);
  }

  /** Credentials to reuse in a later agent (a restarted process). */
  get identity(): AgentCredentials | undefined {
    return this.credentials;
  }

  get status(): Readonly<AgentStats> {
    return { ...this.stats, appliedSequence: this.cursor, resources: this.local.size };
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Aborts the in-flight request and any backoff sleep; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.stats.state = 'stopped';
  }

  private get signal() {
    return this.abort.signal;
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        if (!this.credentials) await this.register();
        if (this.needsSnapshot) await this.hydrate();
        await this.pollOnce();
        await this.maybeHeartbeat();
        this.backoff.reset();
      } catch (error) {
        if (this.signal.aborted) break;
        if (error instanceof HttpError && error.status === 410) {
          // the cursor was pruned or is ahead: the snapshot is the way back, not a backoff
          this.needsSnapshot = true;
          continue;
        }
        this.stats.errors += 1;
        this.stats.connected = error instanceof HttpError;
        this.stats.lastError = (error as Error).message;
        this.stats.state = 'backingOff';
        const delay = this.backoff.next(error instanceof HttpError ? error.retryAfterMs : undefined);
        await sleep(delay, undefined, { signal: this.signal }).catch(() => {});
      }
    }
  }

  private call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; timeoutMs?: number } = {},
  ) {
    return requestJson({
      method,
      url: `${this.options.url}${path}`,
      token: this.credentials?.token,
      body,
      headers: extra.headers,
      agent: this.options.httpAgent,
      signal: this.signal,
      timeoutMs: extra.timeoutMs ?? this.options.requestTimeoutMs ?? 10_000,
    });
  }

  private async register(): Promise<void> {
    if (!this.options.bootstrapToken) throw new Error('no credentials and no bootstrap token');
    const { body: registered } = await this.call('POST', '/v1/agent/register', {
      bootstrapToken: this.options.bootstrapToken,
      name: this.options.name ?? 'fleet-agent',
    });
    const body = registered as {
      agentId: string;
      cell: string;
      token: string;
      controlPlaneKeys: { publicKeyPem: string }[];
    };
    const pems = body.controlPlaneKeys.map((key) => key.publicKeyPem);
    this.credentials = { agentId: body.agentId, cell: body.cell, token: body.token, publicKeyPems: pems };
    this.keys ??= pinKeys(pems);
    this.stats.connected = true;
  }

  /** Replaces the local state with the snapshot's (304: what we hold is current) and reports it. */
  private async hydrate(): Promise<void> {
    this.stats.state = 'syncing';
    const headers: Record<string, string> =
      this.etag && this.local.size > 0 ? { 'if-none-match': this.etag } : {};
    const response = await this.call('GET', '/v1/agent/snapshot', undefined, { headers });
    this.stats.connected = true;
    this.stats.hydrations += 1;
    if (response.status === 304) {
      this.needsSnapshot = false;
      return;
    }
    const snapshot = response.body as {
      sequence: number;
      epoch: string | null;
      etag: string;
      resources: { resourceId: string; desired: DesiredResource }[];
    };
    // another epoch is another history of the cell (a restored or rebuilt database): its sequences
    // restarted, so neither the cursor nor what was applied under the old one can be trusted
    // (from no epoch at all, the cell's first history merely began)
    const newHistory = typeof this.epoch === 'string' && snapshot.epoch !== this.epoch;
    if (newHistory) this.stats.epochChanges += 1;
    const present = new Set(snapshot.resources.map((resource) => resource.resourceId));
    const reports = this.pending;
    for (const id of this.local.ids()) {
      if (!present.has(id)) {
        const gone = this.local.get(id)!;
        this.local.remove(id);
        reports.set(id, { resourceId: id, observedGeneration: gone.generation, status: {}, deleted: true });
      }
    }
    for (const { resourceId, desired } of snapshot.resources) {
      if (newHistory || this.local.get(resourceId)?.generation !== desired.generation)
        await this.applyDelay();
      this.local.put(resourceId, desired);
      reports.set(resourceId, statusOf(resourceId, desired));
    }
    // pinned from here on: an event of any other epoch is refused (wrong_epoch) and re-hydrates
    this.epoch = snapshot.epoch;
    this.cursor = snapshot.sequence;
    this.etag = snapshot.etag;
    this.needsSnapshot = false;
    await this.flushReports();
  }

  private async pollOnce(): Promise<void> {
    await this.flushReports();
    const waitMs = this.options.waitMs ?? 10_000;
    const { body: page } = await this.call(
      'GET',
      `/v1/agent/events?after=${this.cursor}&wait=${waitMs}&limit=100`,
      undefined,
      {
        timeoutMs: waitMs + (this.options.requestTimeoutMs ?? 10_000),
      },
    );
    const body = page as { events: unknown[]; currentSequence: number };
    this.stats.connected = true;
    this.stats.state = 'syncing';
    for (const signed of body.events) {
      const verdict = verifyEvent(signed, this.keys!, {
        cell: this.credentials!.cell,
        // a cell with no counter yet has no epoch: its first event starts one, and a re-hydration
        epoch: this.epoch ?? '',
        lastAppliedSequence: this.cursor,
        generationOf: (id) => this.local.get(id)?.generation,
      });
      if (!verdict.ok) {
        // hydrated before the cell had any history (no epoch): its first events begin one, and the
        // snapshot names it; anything else refused is counted
        const historyBegan = verdict.reason === 'wrong_epoch' && this.epoch === null;
        if (!historyBegan)
          this.stats.rejected[verdict.reason] = (this.stats.rejected[verdict.reason] ?? 0) + 1;
        if (verdict.reason === 'replayed') continue;
        // the genuine event at this sequence is not in hand: skipping it would lose a change
        this.needsSnapshot = true;
        break;
      }
      const report = await this.apply(verdict.event);
      this.pending.set(verdict.event.resourceId, report);
    }
    await this.flushReports();
    if (!this.needsSnapshot && this.cursor >= body.currentSequence) this.stats.state = 'inSync';
  }

  private async apply(event: AgentEvent): Promise<object> {
    await this.applyDelay();
    this.cursor = event.sequence;
    if (event.desired === null) {
      this.local.remove(event.resourceId);
      return {
        resourceId: event.resourceId,
        observedGeneration: event.generation,
        status: {},
        deleted: true,
      };
    }
    this.local.put(event.resourceId, event.desired);
    return statusOf(event.resourceId, event.desired);
  }

  private async applyDelay(): Promise<void> {
    if (this.options.applyMs) await sleep(this.options.applyMs, undefined, { signal: this.signal });
  }

  /** The gateway takes at most 500 reports a request, each resource once. */
  private async flushReports(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.entries()].slice(0, 500);
      await this.call('POST', '/v1/agent/status', { reports: batch.map(([, report]) => report) });
      // a newer report for the same resource may have been queued meanwhile: only drop what was sent
      for (const [id, report] of batch) if (this.pending.get(id) === report) this.pending.delete(id);
    }
  }

  private async maybeHeartbeat(): Promise<void> {
    const every = this.options.heartbeatMs ?? 15_000;
    if (Date.now() - this.lastHeartbeat < every) return;
    await this.call('POST', '/v1/agent/heartbeat', { appliedSequence: this.cursor });
    this.lastHeartbeat = Date.now();
  }
}

function statusOf(resourceId: string, desired: DesiredResource): object {
  return {
    resourceId,
    observedGeneration: desired.generation,
    status: { ready: desired.phase === 'active', phase: desired.phase },
  };
}
