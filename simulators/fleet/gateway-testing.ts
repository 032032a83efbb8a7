// Test support, not part of the simulator's API: a small fake agent gateway on node:http that
// follows docs/dataplane.md and the protocol's v2 additions (register with an encryption key,
// snapshot with ETag, long-polled signed events with sealed secrets, status, heartbeat), with its
// own signer and secret sealer, so the agent's verifier and opener are checked against a second
// implementation written from the protocol text.
import {
  createCipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SealedSecret, SignedEventEnvelope, StatusReport, X25519PublicJwk } from './client.ts';
import type { AgentEvent, DesiredResource } from './verify.ts';

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
    .join(',')}}`;
}

export function kidOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url').slice(0, 16);
}

export function signEvent(event: AgentEvent, signingKey: KeyObject, kid: string): SignedEventEnvelope {
  const input = Buffer.from(`planewright-event-v1\n${canonical(event)}`, 'utf8');
  return { event, signature: sign(null, input, signingKey).toString('base64url'), kid };
}

export interface SealInput {
  agentId: string;
  resourceId: string;
  name: string;
  version: number;
  value: string;
  recipient: X25519PublicJwk;
  signingKey: KeyObject;
  kid: string;
}

/** The control plane's side of protocol item 2, written from the protocol text. */
export function sealSecret(input: SealInput): SealedSecret {
  const { agentId, resourceId, name, version } = input;
  const ephemeral = generateKeyPairSync('x25519');
  const recipient = createPublicKey({ key: { ...input.recipient }, format: 'jwk' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'planewright-secret-v1', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`${agentId}\n${resourceId}\n${name}\n${version}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(input.value, 'utf8'), cipher.final()]).toString(
    'base64url',
  );
  const tag = cipher.getAuthTag().toString('base64url');
  const epk = ephemeral.publicKey.export({ format: 'jwk' }).x!;
  const ivText = iv.toString('base64url');
  const signed = `planewright-secret-v1\n${agentId}\n${resourceId}\n${name}\n${version}\n${epk}\n${ivText}\n${ciphertext}\n${tag}`;
  const signature = sign(null, Buffer.from(signed, 'utf8'), input.signingKey).toString('base64url');
  return { name, version, resourceId, agentId, epk, iv: ivText, ciphertext, tag, kid: input.kid, signature };
}

interface FakeResource {
  desired: DesiredResource;
  secret?: { name: string; version: number; value: string };
}

interface FakeAgent {
  agentId: string;
  name: string;
  encryptionKey?: X25519PublicJwk;
}

/** A scripted answer for the next requests whose path starts with `path`. */
interface ScriptedFailure {
  path: string;
  status: number;
  code?: string;
  retryAfterSeconds?: number;
  times: number;
}

export class FakeGateway {
  readonly cell = 'cell-1';
  epoch = 'ep1';
  readonly orgId = randomUUID();
  readonly signingKey: KeyObject;
  readonly publicKeyPem: string;
  readonly kid: string;
  readonly resources = new Map<string, FakeResource>();
  readonly events: AgentEvent[] = [];
  readonly agents = new Map<string, FakeAgent>();
  readonly registrations: { name: string; encryptionKey?: X25519PublicJwk }[] = [];
  readonly reports: StatusReport[] = [];
  readonly heartbeats: number[] = [];
  readonly requests: string[] = [];
  /** Events at or below this sequence are pruned: a cursor below it gets 410. */
  prunedThrough = 0;
  /** Rewrites each sealed secret served (to tamper with it). */
  tamper: ((sealed: SealedSecret) => SealedSecret) | undefined;
  openPolls = 0;
  /** The key snapshots are signed with (another one forges them). */
  snapshotKey: KeyObject;
  /** Serve snapshots without a signature (as a control plane before signed snapshots did). */
  unsignedSnapshots = false;
  /** Snapshots answered 304 (If-None-Match matched). */
  notModified = 0;
  private readonly failures: ScriptedFailure[] = [];
  private readonly waiters = new Set<() => void>();
  private server: http.Server | undefined;
  url = '';

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.signingKey = privateKey;
    this.snapshotKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.kid = kidOf(publicKey);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const wake of this.waiters) wake();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  get sequence(): number {
    return this.events.length;
  }

  count(prefix: string): number {
    return this.requests.filter((line) => line.startsWith(prefix)).length;
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  fail(
    path: string,
    status: number,
    options: { code?: string; retryAfterSeconds?: number; times?: number } = {},
  ) {
    this.failures.push({ path, status, times: options.times ?? 1, ...options });
  }

  /** Creates or changes a resource (a new generation), or only its phase (same generation). */
  put(
    resourceId: string,
    spec: Record<string, unknown>,
    options: { secretRef?: string } = {},
  ): DesiredResource {
    const previous = this.resources.get(resourceId);
    const generation = (previous?.desired.generation ?? 0) + 1;
    const desired: DesiredResource = {
      kind: 'database',
      name: `db-${resourceId.slice(0, 4)}`,
      spec: options.secretRef ? { ...spec, secretRef: options.secretRef } : spec,
      generation,
      phase: 'active',
      orgId: this.orgId,
      cell: this.cell,
    };
    this.resources.set(resourceId, { ...previous, desired });
    this.emit(previous ? 'resource.updated' : 'resource.created', resourceId, desired);
    return desired;
  }

  setSecret(resourceId: string, name: string, value: string): void {
    const resource = this.resources.get(resourceId)!;
    resource.secret = { name, version: (resource.secret?.version ?? 0) + 1, value };
  }

  resync(resourceId: string): void {
    this.emit('resource.resync', resourceId, this.resources.get(resourceId)!.desired);
  }

  remove(resourceId: string): void {
    const { desired } = this.resources.get(resourceId)!;
    this.resources.delete(resourceId);
    this.emit('resource.deleted', resourceId, null, desired.generation);
  }

  private emit(
    type: AgentEvent['type'],
    resourceId: string,
    desired: DesiredResource | null,
    generation?: number,
  ) {
    this.events.push({
      cell: this.cell,
      epoch: this.epoch,
      sequence: this.events.length + 1,
      type,
      resourceId,
      orgId: this.orgId,
      generation: desired?.generation ?? generation!,
      desired,
      traceparent: null,
      emittedAt: new Date().toISOString(),
    });
    for (const wake of this.waiters) wake();
  }

  private secretsFor(agent: FakeAgent, resourceId: string): SealedSecret[] | undefined {
    const resource = this.resources.get(resourceId);
    if (!resource?.secret || !agent.encryptionKey || !resource.desired.spec.secretRef) return undefined;
    const sealed = sealSecret({
      agentId: agent.agentId,
      resourceId,
      ...resource.secret,
      recipient: agent.encryptionKey,
      signingKey: this.signingKey,
      kid: this.kid,
    });
    return [this.tamper ? this.tamper(sealed) : sealed];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const failure = this.failures.find((rule) => url.pathname.startsWith(rule.path) && rule.times > 0);
    if (failure) {
      failure.times -= 1;
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      return send(
        failure.status,
        { error: { code: failure.code ?? 'scripted', message: 'scripted' } },
        headers,
      );
    }
    if (url.pathname === '/v1/agent/register') {
      const agent: FakeAgent = { agentId: randomUUID(), name: body.name, encryptionKey: body.encryptionKey };
      const token = `pwa_${randomUUID()}`;
      this.agents.set(token, agent);
      this.registrations.push({ name: body.name, encryptionKey: body.encryptionKey });
      return send(201, {
        agentId: agent.agentId,
        cell: this.cell,
        token,
        controlPlaneKeys: [{ kid: this.kid, publicKeyPem: this.publicKeyPem }],
      });
    }
    const agent = this.agents.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!agent) return send(401, { error: { code: 'unauthorized', message: 'no agent' } });
    const etag = `"${this.epoch}.${this.sequence}"`;
    switch (url.pathname) {
      case '/v1/agent/snapshot': {
        if (req.headers['if-none-match'] === etag) {
          this.notModified += 1;
          return send(304, undefined, { etag });
        }
        const resources = [...this.resources].map(([resourceId, { desired }]) => {
          const secrets = this.secretsFor(agent, resourceId);
          return { resourceId, desired, ...(secrets ? { secrets } : {}) };
        });
        const signed = { cell: this.cell, epoch: this.epoch, sequence: this.sequence };
        const covered = resources.map(({ resourceId, desired }) => ({ resourceId, desired }));
        const input = `planewright-snapshot-v1\n${canonical({ ...signed, resources: covered })}`;
        const signature = sign(null, Buffer.from(input, 'utf8'), this.snapshotKey).toString('base64url');
        const proof = this.unsignedSnapshots ? {} : { signature, kid: this.kid };
        return send(200, { ...signed, etag, resources, ...proof }, { etag });
      }
      case '/v1/agent/events': {
        const after = Number(url.searchParams.get('after'));
        const wait = Number(url.searchParams.get('wait') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        if (after < this.prunedThrough || after > this.sequence)
          return send(410, { error: { code: 'snapshot_required', message: 'snapshot required' } });
        if (this.sequence === after && wait > 0) {
          this.openPolls += 1;
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              this.waiters.delete(wake);
              resolve();
            };
            const timer = setTimeout(wake, wait);
            this.waiters.add(wake);
            res.once('close', wake);
          });
          this.openPolls -= 1;
          if (res.destroyed) return;
        }
        const events = this.events.slice(after, after + limit).map((event) => {
          const envelope = signEvent(event, this.signingKey, this.kid);
          const secrets = event.desired ? this.secretsFor(agent, event.resourceId) : undefined;
          return secrets ? { ...envelope, secrets } : envelope;
        });
        return send(200, { cell: this.cell, events, currentSequence: this.sequence, epoch: this.epoch });
      }
      case '/v1/agent/status': {
        this.reports.push(...(body.reports as StatusReport[]));
        const results = (body.reports as StatusReport[]).map((report) => ({
          resourceId: report.resourceId,
          outcome: 'applied',
        }));
        return send(200, { results });
      }
      case '/v1/agent/heartbeat':
        this.heartbeats.push(body.appliedSequence);
        return send(204);
      default:
        return send(404, { error: { code: 'not_found', message: url.pathname } });
    }
  }
}
