// The agent gateway's HTTP API (docs/dataplane.md, "The agent gateway"), typed: the agent's only
// way to call the control plane, and what the Pact consumer tests pin. Every call is bounded; a
// non-2xx answer is an `HttpError`, a request that never got an answer a `NetworkError`.
import type http from 'node:http';
import { HttpError, requestJson } from './http.ts';
import type { AgentEvent, DesiredResource } from './verify.ts';

/** The agent's X25519 public key, to which the control plane seals secrets (protocol item 1). */
export interface X25519PublicJwk {
  kty: 'OKP';
  crv: 'X25519';
  /** base64url of the 32-byte public key */
  x: string;
}

export interface RegisterRequest {
  /** One-time, operator-minted (`pwb_…`). */
  bootstrapToken: string;
  /** Letters, digits and `. _ : -`, ≤ 100 characters. */
  name: string;
  /** Without it the agent receives no secrets. */
  encryptionKey?: X25519PublicJwk;
}

export interface ControlPlaneKey {
  kid: string;
  /** SPKI PEM of the Ed25519 key that signs events and sealed secrets: pin it. */
  publicKeyPem: string;
}

export interface RegisteredAgent {
  agentId: string;
  cell: string;
  /** The agent credential (`pwa_…`), shown once. */
  token: string;
  controlPlaneKeys: ControlPlaneKey[];
}

/** A secret sealed to one agent for one resource (protocol item 2); binary fields base64url. */
export interface SealedSecret {
  name: string;
  version: number;
  resourceId: string;
  agentId: string;
  /** Ephemeral X25519 public key, 32 raw bytes. */
  epk: string;
  iv: string;
  ciphertext: string;
  tag: string;
  /** The control plane's event key that signed it. */
  kid: string;
  signature: string;
}

export interface SnapshotEntry {
  resourceId: string;
  desired: DesiredResource;
  secrets?: SealedSecret[];
}

export interface Snapshot {
  cell: string;
  /** Follow with `events({ after: sequence })`. */
  sequence: number;
  /** The cell's history; null before its first event. */
  epoch: string | null;
  etag: string;
  resources: SnapshotEntry[];
  /** Ed25519 by the event key `kid` over the cell, epoch, sequence and resources (not the secrets). */
  signature?: string;
  kid?: string;
}

/** `If-None-Match` matched: what the agent holds is current. */
export interface NotModified {
  notModified: true;
  etag: string;
}

export type SnapshotResult = NotModified | (Snapshot & { notModified: false });

/** As received: unverified until `verifyEvent` says otherwise. */
export interface SignedEventEnvelope {
  event: AgentEvent;
  signature: string;
  kid: string;
  /** Next to the signed event, not inside it. */
  secrets?: SealedSecret[];
}

export interface EventPage {
  cell: string;
  events: SignedEventEnvelope[];
  currentSequence: number;
  epoch: string | null;
}

export type ApplyErrorClass = 'internal' | 'customer';

export interface ApplyErrorReport {
  /** `internal`: shown as a generic message with a support id, retried; `customer`: shown as is. */
  class: ApplyErrorClass;
  message: string;
  hint?: string;
}

export interface StatusReport {
  resourceId: string;
  /** The generation applied, or the one that failed to apply (with `error`). */
  observedGeneration: number;
  status: Record<string, unknown>;
  /** What the local data plane actually runs (protocol item 4); drift when it differs. */
  observedSpec?: Record<string, unknown>;
  error?: ApplyErrorReport;
  deleted?: boolean;
}

export type StatusOutcome = 'applied' | 'not_found' | 'stale' | 'future_generation';

export interface StatusResults {
  results: { resourceId: string; outcome: StatusOutcome }[];
}

/** The request got no HTTP answer: refused, reset, timed out, or partitioned away (a fault). */
export class NetworkError extends Error {
  /** The socket error's code (`ECONNREFUSED`, `ECONNRESET`…), `PW_FLEET_TIMEOUT` or `PW_FLEET_PARTITIONED`. */
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(`${code}: ${message}`, { cause });
    this.name = 'NetworkError';
    this.code = code;
  }
}

/** A 2xx answer whose body is not what the protocol documents. */
export class GatewayProtocolError extends Error {
  readonly code = 'PW_FLEET_BAD_RESPONSE';
  constructor(what: string) {
    super(
      `PW_FLEET_BAD_RESPONSE: ${what} is not as docs/dataplane.md documents it; check the control plane's version`,
    );
    this.name = 'GatewayProtocolError';
  }
}

export interface GatewayClientOptions {
  /** Base URL of the control plane, without a trailing slash. */
  url: string;
  /** The agent credential (`pwa_…`); `register()` sets it. */
  token?: string;
  /** A shared keep-alive pool (the fleet's). Default: Node's global agent. */
  httpAgent?: http.Agent;
  /** Aborts every call made by this client (the agent's life). */
  signal?: AbortSignal;
  /** Bound of every call; a long-poll gets its wait on top. Default 10,000. */
  requestTimeoutMs?: number;
}

/** Per call: a signal of its own, on top of the client's. */
export interface CallOptions {
  signal?: AbortSignal;
}

const never = new AbortController().signal;

export class GatewayClient {
  readonly url: string;
  private token: string | undefined;
  private readonly httpAgent: http.Agent | undefined;
  private readonly signal: AbortSignal;
  private readonly timeoutMs: number;

  constructor(options: GatewayClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.httpAgent = options.httpAgent;
    this.signal = options.signal ?? never;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  /** `POST /v1/agent/register`; keeps the returned credential for the calls that follow. */
  async register(request: RegisterRequest, options?: CallOptions): Promise<RegisteredAgent> {
    const { body } = await this.call('POST', '/v1/agent/register', request, options);
    const registered = body as RegisteredAgent;
    if (
      typeof registered?.agentId !== 'string' ||
      typeof registered.token !== 'string' ||
      typeof registered.cell !== 'string' ||
      !Array.isArray(registered.controlPlaneKeys)
    )
      throw new GatewayProtocolError('the registration answer');
    this.token = registered.token;
    return registered;
  }

  /** `GET /v1/agent/snapshot`, with `If-None-Match` when `etag` is given (304 → `notModified`). */
  async snapshot(request: { etag?: string } = {}, options?: CallOptions): Promise<SnapshotResult> {
    const headers = request.etag ? { 'if-none-match': request.etag } : undefined;
    const response = await this.call('GET', '/v1/agent/snapshot', undefined, options, headers);
    if (response.status === 304) {
      const etag = response.headers.etag;
      return { notModified: true, etag: typeof etag === 'string' ? etag : request.etag! };
    }
    const snapshot = response.body as Snapshot;
    if (typeof snapshot?.sequence !== 'number' || !Array.isArray(snapshot.resources))
      throw new GatewayProtocolError('the snapshot');
    return { ...snapshot, notModified: false };
  }

  /** `GET /v1/agent/events`: a 410 `snapshot_required` is an `HttpError` (status 410). */
  async events(
    request: { after: number; wait?: number; limit?: number },
    options?: CallOptions,
  ): Promise<EventPage> {
    const wait = request.wait ?? 0;
    const query = `after=${request.after}&wait=${wait}&limit=${request.limit ?? 100}`;
    const { body } = await this.call('GET', `/v1/agent/events?${query}`, undefined, options, undefined, wait);
    const page = body as EventPage;
    if (typeof page?.currentSequence !== 'number' || !Array.isArray(page.events))
      throw new GatewayProtocolError('the events page');
    return page;
  }

  /** `POST /v1/agent/status`: at most 500 reports, each resource once. */
  async status(reports: StatusReport[], options?: CallOptions): Promise<StatusResults> {
    const { body } = await this.call('POST', '/v1/agent/status', { reports }, options);
    const results = body as StatusResults;
    if (!Array.isArray(results?.results)) throw new GatewayProtocolError('the status answer');
    return results;
  }

  /** `POST /v1/agent/heartbeat` → 204. */
  async heartbeat(appliedSequence: number, options?: CallOptions): Promise<void> {
    await this.call('POST', '/v1/agent/heartbeat', { appliedSequence }, options);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: CallOptions | undefined,
    headers?: Record<string, string>,
    extraTimeoutMs = 0,
  ) {
    const signal = options?.signal ? AbortSignal.any([this.signal, options.signal]) : this.signal;
    try {
      return await requestJson({
        method,
        url: `${this.url}${path}`,
        token: this.token,
        body,
        headers,
        agent: this.httpAgent,
        signal,
        timeoutMs: this.timeoutMs + extraTimeoutMs,
      });
    } catch (error) {
      // the caller's own abort stays an abort; anything else without an answer is the network's
      if (error instanceof HttpError || signal.aborted) throw error;
      throw toNetworkError(error);
    }
  }
}

function toNetworkError(error: unknown): NetworkError {
  const failure = error as { name?: string; code?: unknown; message?: string };
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError')
    return new NetworkError('PW_FLEET_TIMEOUT', 'no answer within the request bound', error);
  const code = typeof failure?.code === 'string' ? failure.code : 'PW_FLEET_NETWORK';
  return new NetworkError(code, failure?.message ?? String(error), error);
}

export { HttpError };
