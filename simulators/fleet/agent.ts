// One data-plane agent, speaking the agent gateway's documented HTTP API (docs/dataplane.md) like
// an agent in another codebase would: no control-plane import. Its loop: register (or reuse its
// credentials), hydrate from the snapshot, long-poll signed events, verify and apply each, report
// status; a timer heartbeats and flushes reports. On any failure it backs off with the chosen
// strategy and carries on serving the local data plane.
//
// `FleetAgent` is what survives a crash (credentials, the local data plane, counters, faults);
// `AgentProcess` is one life of the agent, from start to crash or stop.

import type { KeyObject } from 'node:crypto';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { seededRandom } from '../kit/index.ts';
import { Backoff, type BackoffStrategy } from './backoff.ts';
import {
  type ApplyErrorClass,
  type ApplyErrorReport,
  type CallOptions,
  GatewayClient,
  GatewayProtocolError,
  HttpError,
  NetworkError,
  type SealedSecret,
  type StatusReport,
} from './client.ts';
import {
  AgentFaults,
  type Fault,
  type FaultHandle,
  type FaultJournalEntry,
  type FaultTarget,
} from './faults.ts';
import { HeldSecret, LocalDataPlane, type LocalResource } from './local.ts';
import {
  type EncryptionKeyJwk,
  encryptionPrivateKey,
  encryptionPublicJwk,
  generateEncryptionKey,
  openSealedSecret,
} from './secrets.ts';
import { type DesiredResource, pinKeys, type Rejection, verifyEvent, verifySnapshot } from './verify.ts';

export interface AgentCredentials {
  agentId: string;
  cell: string;
  token: string;
  /** SPKI PEMs of the control plane's event keys. */
  publicKeyPems: string[];
  /** The X25519 key pair secrets are sealed to (JWK `x`/`d`); absent when registered without one. */
  encryptionKey?: EncryptionKeyJwk;
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
  /** Refuse a snapshot without a signature (a forged one is refused either way). Default true. */
  requireSignedSnapshots?: boolean;
  /** Register with an X25519 key, so the control plane can send secrets. Default true. */
  secrets?: boolean;
  strategy?: BackoffStrategy;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  seed?: number;
  /** Simulated time to apply one change on the data plane. Default 0. */
  applyMs?: number;
  /** Long-poll wait, ≤ 30,000. Default 10,000. */
  waitMs?: number;
  /** Heartbeat (and report flush) timer. Default 15,000. */
  heartbeatMs?: number;
  /** Bound of every non-long-poll request. Default 10,000. */
  requestTimeoutMs?: number;
  /** A shared keep-alive pool (the fleet's). */
  httpAgent?: http.Agent;
  /** Where injected faults are recorded (the fleet's journal). */
  journal?: FaultJournalEntry[];
  /** Called once the agent holds new credentials (the fleet persists them). */
  onRegistered?: (agent: FleetAgent) => void;
}

export type AgentState = 'starting' | 'syncing' | 'inSync' | 'backingOff' | 'crashed' | 'stopped';

export interface AgentStats {
  state: AgentState;
  /** The last request reached the control plane. */
  connected: boolean;
  appliedSequence: number;
  resources: number;
  /** Failed requests (410 snapshot_required is not one: it is the way to the snapshot). */
  errors: number;
  /** Failed requests by kind: `http:<status>`, `network:<code>`, `protocol`, `bad_snapshot`, `other`. */
  errorsByKind: Record<string, number>;
  rejected: Partial<Record<Rejection, number>>;
  /** Applies that failed (injected faults), by class. */
  applyErrors: Partial<Record<ApplyErrorClass, number>>;
  hydrations: number;
  /** Snapshots that named another epoch than the one followed: the cell's history restarted. */
  epochChanges: number;
  /** Times the agent process started again after a crash. */
  restarts: number;
  crashed: boolean;
  hung: boolean;
  partitioned: boolean;
  /** Never holds a secret value: messages name codes and statuses only. */
  lastError?: string;
}

/** The snapshot's signature failed: the agent keeps what it runs and tries again after a backoff. */
export class SnapshotRefused extends Error {
  readonly code = 'PW_FLEET_BAD_SNAPSHOT';
  constructor() {
    super(
      'PW_FLEET_BAD_SNAPSHOT: the snapshot is unsigned or its signature does not verify with a pinned key',
    );
    this.name = 'SnapshotRefused';
  }
}

// agents of one fleet pin the same keys: share the KeyObjects instead of a set per agent
const pinnedKeySets = new Map<string, Map<string, KeyObject>>();
function pinShared(pems: string[]): Map<string, KeyObject> {
  const cacheKey = pems.join('\n');
  let keys = pinnedKeySets.get(cacheKey);
  if (!keys) {
    if (pinnedKeySets.size >= 16) pinnedKeySets.clear();
    keys = pinKeys(pems);
    pinnedKeySets.set(cacheKey, keys);
  }
  return keys;
}

export class FleetAgent implements FaultTarget {
  /** What the data plane runs; it outlives a crash of the agent. */
  readonly local = new LocalDataPlane();
  readonly name: string;
  /** @internal */ readonly options: AgentOptions;
  /** @internal */ credentials: AgentCredentials | undefined;
  /** @internal */ keys: Map<string, KeyObject> | undefined;
  /** @internal */ faults: AgentFaults | undefined;
  /** @internal */ readonly stats: AgentStats = {
    state: 'starting',
    connected: false,
    appliedSequence: 0,
    resources: 0,
    errors: 0,
    errorsByKind: {},
    rejected: {},
    applyErrors: {},
    hydrations: 0,
    epochChanges: 0,
    restarts: 0,
    crashed: false,
    hung: false,
    partitioned: false,
  };
  private process: AgentProcess | undefined;
  private ending: Promise<void> | undefined;
  private stopped = false;
  private started = false;

  constructor(options: AgentOptions) {
    this.options = options;
    this.name = options.name ?? 'fleet-agent';
    this.credentials = options.credentials;
    if (options.pinnedPublicKeyPems) this.keys = pinShared(options.pinnedPublicKeyPems);
    else if (options.credentials) this.keys = pinShared(options.credentials.publicKeyPems);
  }

  /** What the local data plane runs for a resource; answers whether or not the control plane is up. */
  get(resourceId: string): LocalResource | undefined {
    return this.local.get(resourceId);
  }

  /** Credentials to reuse in a later agent (a restarted process). They hold secrets: store them 0600. */
  get identity(): AgentCredentials | undefined {
    return this.credentials;
  }

  get status(): Readonly<AgentStats> {
    return { ...this.stats, appliedSequence: this.local.sequence, resources: this.local.size };
  }

  start(): this {
    if (!this.started && !this.stopped) {
      this.started = true;
      this.process = new AgentProcess(this, false);
    }
    return this;
  }

  /** Aborts the in-flight requests and any backoff sleep; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.faults?.dispose();
    const process = this.process;
    this.process = undefined;
    process?.kill();
    await Promise.all([process?.loop, this.ending]);
    this.stats.state = 'stopped';
    this.stats.crashed = this.stats.hung = this.stats.partitioned = false;
  }

  /**
   * Injects a fault into this agent; `clear()` on the handle ends it.
   * @example const hang = agent.inject({ kind: 'hang', durationMs: 2_000 });
   */
  inject(fault: Fault): FaultHandle {
    this.faults ??= new AgentFaults(this, this.options.journal);
    return this.faults.inject(fault);
  }

  /** @internal */
  onFaultStart(fault: Fault): void {
    switch (fault.kind) {
      case 'crash':
        this.crash();
        break;
      case 'hang':
        this.stats.hung = true;
        break;
      case 'partition':
        this.stats.partitioned = true;
        this.process?.cutConnections();
        break;
      case 'drift': {
        const resourceId = fault.resourceId ?? this.local.ids().sort()[0];
        const drifted = resourceId && this.local.drift(resourceId, fault.patch ?? { drifted: true });
        if (drifted) this.process?.reportSoon(drifted);
        break;
      }
    }
  }

  /** @internal */
  onFaultEnd(fault: Fault): void {
    if (this.stopped) return;
    switch (fault.kind) {
      case 'crash':
        if (!this.faults?.has('crash')) this.restart();
        break;
      case 'hang':
        this.stats.hung = this.faults?.has('hang') ?? false;
        if (!this.stats.hung) this.process?.unhang();
        break;
      case 'partition':
        this.stats.partitioned = this.faults?.has('partition') ?? false;
        // catch up now rather than at the end of a backoff sleep
        if (!this.stats.partitioned) this.process?.wakeUp();
        break;
    }
  }

  /** @internal */
  recordError(error: unknown): void {
    this.stats.errors += 1;
    const kind =
      error instanceof HttpError
        ? `http:${error.status}`
        : error instanceof NetworkError
          ? `network:${error.code}`
          : error instanceof GatewayProtocolError
            ? 'protocol'
            : error instanceof SnapshotRefused
              ? 'bad_snapshot'
              : 'other';
    this.stats.errorsByKind[kind] = (this.stats.errorsByKind[kind] ?? 0) + 1;
    this.stats.lastError = (error as Error).message;
  }

  /** @internal */
  reject(reason: Rejection): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
  }

  private crash(): void {
    const process = this.process;
    if (!process) return;
    this.process = undefined;
    process.kill();
    // a hang is a state of the process that died
    this.faults?.endAll('hang');
    this.stats.state = 'crashed';
    this.stats.crashed = true;
    this.stats.connected = false;
    this.ending = process.loop;
  }

  private restart(): void {
    if (this.process || this.stopped || !this.started) return;
    const ending = this.ending ?? Promise.resolve();
    this.ending = ending.then(() => {
      if (this.stopped || this.process || this.faults?.has('crash')) return;
      this.stats.crashed = false;
      this.stats.restarts += 1;
      this.stats.state = 'starting';
      this.process = new AgentProcess(this, true);
    });
  }
}

/** One life of an agent: what a crash loses (cursor in flight, unsent reports, open requests). */
class AgentProcess {
  readonly loop: Promise<void>;
  private readonly agent: FleetAgent;
  private readonly abort = new AbortController();
  private readonly client: GatewayClient;
  private readonly backoff: Backoff;
  // aborted when a partition starts: requests in flight fail as the network's
  private inflight = new AbortController();
  private callOptions: CallOptions = { signal: this.inflight.signal };
  // ends a backoff sleep early (a partition healed, or the process died)
  private wake = new AbortController();
  private hangWait: PromiseWithResolvers<void> | undefined;
  private needsSnapshot = true;
  // a restarted process tells the control plane what it runs, even when the snapshot is a 304
  private announce: boolean;
  // reports not yet accepted, latest per resource: a failed POST must not lose a status, since the
  // cursor has already moved past the event that caused it
  private readonly pending = new Map<string, StatusReport>();
  private flushing: Promise<void> | undefined;
  private beating = false;
  private privateKey: KeyObject | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(agent: FleetAgent, restarted: boolean) {
    this.agent = agent;
    this.announce = restarted;
    const { options } = agent;
    this.client = new GatewayClient({
      url: options.url,
      token: agent.credentials?.token,
      httpAgent: options.httpAgent,
      signal: this.abort.signal,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.backoff = new Backoff({
      strategy: options.strategy ?? 'full-jitter',
      baseMs: options.backoffBaseMs ?? 100,
      capMs: options.backoffCapMs ?? 5_000,
      random: seededRandom(options.seed ?? 1, `agent:${agent.name}:${agent.stats.restarts}`).float,
    });
    this.timer = setInterval(this.tick, options.heartbeatMs ?? 15_000);
    this.timer.unref();
    this.loop = this.run();
  }

  kill(): void {
    this.abort.abort();
    this.wake.abort();
    clearInterval(this.timer);
    this.unhang();
  }

  cutConnections(): void {
    this.inflight.abort();
    this.inflight = new AbortController();
    this.callOptions = { signal: this.inflight.signal };
  }

  unhang(): void {
    this.hangWait?.resolve();
    this.hangWait = undefined;
  }

  wakeUp(): void {
    this.wake.abort();
    this.wake = new AbortController();
  }

  /** Queues a resource's report and sends it now, not at the next poll (drift is reported promptly). */
  reportSoon(resource: LocalResource): void {
    this.pending.set(resource.resourceId, reportOf(resource));
    if (this.agent.credentials && !this.blocked) this.flushReports().catch(() => {});
  }

  private get blocked(): boolean {
    return this.agent.stats.hung || this.agent.stats.partitioned;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const { stats } = this.agent;
    while (!signal.aborted) {
      try {
        if (!this.agent.credentials) await this.register();
        if (this.needsSnapshot) await this.hydrate();
        await this.pollOnce();
        this.backoff.reset();
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof HttpError && error.status === 410) {
          // the cursor was pruned or is ahead: the snapshot is the way back, not a backoff
          this.needsSnapshot = true;
          continue;
        }
        this.agent.recordError(error);
        stats.state = 'backingOff';
        const delay = this.backoff.next(error instanceof HttpError ? error.retryAfterMs : undefined);
        await sleep(delay, undefined, { signal: this.wake.signal }).catch(() => {});
      }
    }
  }

  /** Every request goes through here: faults decide whether it leaves, and whether its answer is read. */
  private async send<T>(call: (client: GatewayClient, options: CallOptions) => Promise<T>): Promise<T> {
    await this.waitWhileHung();
    if (this.agent.stats.partitioned)
      throw new NetworkError(
        'PW_FLEET_PARTITIONED',
        'the agent is partitioned from the control plane (fault)',
      );
    const inflight = this.inflight;
    try {
      const result = await call(this.client, this.callOptions);
      this.agent.stats.connected = true;
      // a hung agent leaves an answer unread until it resumes
      await this.waitWhileHung();
      return result;
    } catch (error) {
      if (this.abort.signal.aborted) throw error;
      if (inflight.signal.aborted) {
        this.agent.stats.connected = false;
        throw new NetworkError(
          'PW_FLEET_PARTITIONED',
          'the connection was cut by a partition (fault)',
          error,
        );
      }
      if (error instanceof NetworkError) this.agent.stats.connected = false;
      else if (error instanceof HttpError) this.agent.stats.connected = true;
      throw error;
    }
  }

  private async waitWhileHung(): Promise<void> {
    while (this.agent.stats.hung && !this.abort.signal.aborted) {
      this.hangWait ??= Promise.withResolvers<void>();
      await this.hangWait.promise;
    }
    this.abort.signal.throwIfAborted();
  }

  private async register(): Promise<void> {
    const { options } = this.agent;
    if (!options.bootstrapToken)
      throw new Error('PW_FLEET_NO_CREDENTIALS: pass credentials or a bootstrapToken');
    const encryptionKey = options.secrets === false ? undefined : generateEncryptionKey();
    const registered = await this.send((client, call) =>
      client.register(
        {
          bootstrapToken: options.bootstrapToken!,
          name: this.agent.name,
          ...(encryptionKey ? { encryptionKey: encryptionPublicJwk(encryptionKey) } : {}),
        },
        call,
      ),
    );
    const pems = registered.controlPlaneKeys.map((key) => key.publicKeyPem);
    this.agent.credentials = {
      agentId: registered.agentId,
      cell: registered.cell,
      token: registered.token,
      publicKeyPems: pems,
      ...(encryptionKey ? { encryptionKey } : {}),
    };
    this.agent.keys ??= pinShared(pems);
    options.onRegistered?.(this.agent);
  }

  /** Replaces the local state with the snapshot's (304: what we hold is current) and reports it. */
  private async hydrate(): Promise<void> {
    const { local, stats } = this.agent;
    stats.state = 'syncing';
    const snapshot = await this.send((client, call) => client.snapshot({ etag: local.etag }, call));
    stats.hydrations += 1;
    if (snapshot.notModified) {
      if (this.announce) for (const id of local.ids()) this.pending.set(id, reportOf(local.get(id)!));
      this.announce = false;
      this.needsSnapshot = false;
      stats.state = 'inSync';
      await this.flushReports();
      return;
    }
    const signed = snapshot.signature !== undefined || this.agent.options.requireSignedSnapshots !== false;
    if (signed && !verifySnapshot(snapshot, this.agent.keys!, this.agent.credentials!.cell)) {
      // nothing of it is applied: whoever answered is not the control plane, or not for this cell
      this.agent.reject('bad_snapshot');
      throw new SnapshotRefused();
    }
    // another epoch is another history of the cell (a restored or rebuilt database): its sequences
    // restarted, so neither the cursor nor what was applied under the old one can be trusted
    // (from no epoch at all, the cell's first history merely began)
    const newHistory = typeof local.epoch === 'string' && snapshot.epoch !== local.epoch;
    if (newHistory) stats.epochChanges += 1;
    const present = new Set(snapshot.resources.map((resource) => resource.resourceId));
    for (const id of local.ids()) {
      if (!present.has(id)) {
        const gone = local.get(id)!;
        local.remove(id);
        this.pending.set(id, {
          resourceId: id,
          observedGeneration: gone.generation,
          status: {},
          deleted: true,
        });
      }
    }
    for (const { resourceId, desired, secrets } of snapshot.resources) {
      const held = local.get(resourceId);
      // what already runs is left alone (a drift stays visible to the reconciler in its report)
      if (!newHistory && held && holds(held, desired, secrets)) this.pending.set(resourceId, reportOf(held));
      else this.pending.set(resourceId, await this.apply(resourceId, desired, secrets));
    }
    // pinned from here on: an event of any other epoch is refused (wrong_epoch) and re-hydrates
    local.epoch = snapshot.epoch;
    local.sequence = snapshot.sequence;
    local.etag = snapshot.etag;
    this.needsSnapshot = false;
    this.announce = false;
    // it holds the cell as of the snapshot: in sync until an event says otherwise
    stats.state = 'inSync';
    await this.flushReports();
  }

  private async pollOnce(): Promise<void> {
    const { local, stats, options } = this.agent;
    await this.flushReports();
    const wait = options.waitMs ?? 10_000;
    const page = await this.send((client, call) =>
      client.events({ after: local.sequence, wait, limit: 100 }, call),
    );
    if (page.events.length > 0) stats.state = 'syncing';
    const { cell } = this.agent.credentials!;
    for (const signed of page.events) {
      const verdict = verifyEvent(signed, this.agent.keys!, {
        cell,
        // a cell with no counter yet has no epoch: its first event starts one, and a re-hydration
        epoch: local.epoch ?? '',
        lastAppliedSequence: local.sequence,
        generationOf: (id) => local.get(id)?.generation,
      });
      if (!verdict.ok) {
        // hydrated before the cell had any history (no epoch): its first events begin one, and the
        // snapshot names it; anything else refused is counted
        const historyBegan = verdict.reason === 'wrong_epoch' && local.epoch === null;
        if (!historyBegan) this.agent.reject(verdict.reason);
        if (verdict.reason === 'replayed') continue;
        // the genuine event at this sequence is not in hand: skipping it would lose a change
        this.needsSnapshot = true;
        break;
      }
      const { event } = verdict;
      let report: StatusReport;
      if (event.desired === null) {
        await this.applyDelay();
        local.remove(event.resourceId);
        report = {
          resourceId: event.resourceId,
          observedGeneration: event.generation,
          status: {},
          deleted: true,
        };
      } else {
        // resource.resync re-applies the same generation: the same path as any change
        report = await this.apply(event.resourceId, event.desired, signed.secrets);
      }
      // the ETag names the sequence held (`"<epoch>.<sequence>"`): keep it current, so a restarted
      // agent that is up to date costs a 304
      if (local.etag === `"${local.epoch}.${local.sequence}"`)
        local.etag = `"${local.epoch}.${event.sequence}"`;
      local.sequence = event.sequence;
      this.pending.set(event.resourceId, report);
      await this.waitWhileHung();
    }
    await this.flushReports();
    if (!this.needsSnapshot && local.sequence >= page.currentSequence) stats.state = 'inSync';
  }

  /** Applies desired state (with its secrets) or fails as a fault says; the report says which. */
  private async apply(
    resourceId: string,
    desired: DesiredResource,
    sealed?: SealedSecret[],
  ): Promise<StatusReport> {
    const { local } = this.agent;
    let secrets: Record<string, HeldSecret> | undefined;
    if (sealed?.length) {
      secrets = {};
      for (const secret of sealed) {
        const opened = this.open(secret, resourceId);
        if (!opened) {
          // the event is genuine (signed) but its secret is not usable: nothing changes locally, and
          // the control plane learns it as an internal error it can re-send (re-sealed) on its own
          this.agent.reject('bad_secret');
          return failed(local.get(resourceId), resourceId, desired, {
            class: 'internal',
            message: 'a sealed secret was refused (bad_secret)',
          });
        }
        secrets[opened.name] = opened;
      }
    }
    await this.applyDelay();
    const error = this.agent.faults?.takeApplyError(resourceId, desired);
    if (error) {
      const { applyErrors } = this.agent.stats;
      applyErrors[error.class] = (applyErrors[error.class] ?? 0) + 1;
      return failed(local.get(resourceId), resourceId, desired, error);
    }
    return reportOf(local.put(resourceId, desired, secrets));
  }

  private open(sealed: SealedSecret, resourceId: string): HeldSecret | undefined {
    const { credentials, keys } = this.agent;
    if (!credentials?.encryptionKey || !keys) return undefined;
    this.privateKey ??= encryptionPrivateKey(credentials.encryptionKey);
    const opened = openSealedSecret(sealed, {
      agentId: credentials.agentId,
      resourceId,
      privateKey: this.privateKey,
      keys,
    });
    return opened.ok ? new HeldSecret(opened.name, opened.version, opened.value) : undefined;
  }

  private async applyDelay(): Promise<void> {
    const ownMs = this.agent.options.applyMs ?? 0;
    const applyMs = this.agent.faults ? this.agent.faults.applyMs(ownMs) : ownMs;
    if (applyMs > 0) await sleep(applyMs, undefined, { signal: this.abort.signal });
  }

  /** One flush at a time (the loop and the timer share it); at most 500 reports a request, each resource once. */
  private flushReports(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.entries()].slice(0, 500);
      await this.send((client, call) =>
        client.status(
          batch.map(([, report]) => report),
          call,
        ),
      );
      // a newer report for the same resource may have been queued meanwhile: only drop what was sent
      for (const [id, report] of batch) if (this.pending.get(id) === report) this.pending.delete(id);
    }
  }

  /** The heartbeat timer: flushes reports queued during a long-poll, then tells the control plane it lives. */
  private readonly tick = (): void => {
    if (this.beating || this.blocked || !this.agent.credentials) return;
    this.beating = true;
    void this.beat().finally(() => {
      this.beating = false;
    });
  };

  private async beat(): Promise<void> {
    // a failed flush is the loop's to count and back off from: it meets the same reports next
    await this.flushReports().catch(() => {});
    try {
      await this.send((client, call) => client.heartbeat(this.agent.local.sequence, call));
    } catch (error) {
      if (!this.abort.signal.aborted) this.agent.recordError(error);
    }
  }
}

function reportOf(resource: LocalResource): StatusReport {
  const { phase } = resource.desired;
  return {
    resourceId: resource.resourceId,
    observedGeneration: resource.generation,
    status: { ready: phase === 'active', phase },
    observedSpec: resource.spec,
  };
}

/** A failed apply: the generation it failed at, and what still runs (the previous spec, if any). */
function failed(
  held: LocalResource | undefined,
  resourceId: string,
  desired: DesiredResource,
  error: ApplyErrorReport,
): StatusReport {
  return {
    resourceId,
    observedGeneration: desired.generation,
    status: { ready: false, phase: desired.phase },
    ...(held ? { observedSpec: held.spec } : {}),
    error,
  };
}

/** The snapshot asks for what already runs: same desired state, same secret versions. */
function holds(held: LocalResource, desired: DesiredResource, sealed: SealedSecret[] | undefined): boolean {
  if (held.generation !== desired.generation || JSON.stringify(held.desired) !== JSON.stringify(desired))
    return false;
  const versions = (sealed ?? []).map((secret) => `${secret.name}@${secret.version}`).sort();
  const heldVersions = Object.values(held.secrets ?? {})
    .map((secret) => `${secret.name}@${secret.version}`)
    .sort();
  return versions.join(',') === heldVersions.join(',');
}
