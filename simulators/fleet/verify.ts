// The agent's own event verifier, written from docs/dataplane.md ("Signing", "Verification") with
// node:crypto only. A real agent lives in another codebase and cannot import the control plane, and
// DESIGN.md says a simulator never does: so this is a second implementation of the documented
// canonical form, on purpose. The Pact contract of a later step pins the two implementations
// together (the control plane's signing.ts / verify.ts and this file).
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

export interface DesiredResource {
  kind: string;
  name: string;
  spec: Record<string, unknown>;
  generation: number;
  phase: 'active' | 'suspended' | 'deprovisioning';
  orgId: string;
  cell: string;
}

export interface AgentEvent {
  cell: string;
  /** The history of the cell's sequences the event belongs to: the snapshot's `epoch`. */
  epoch: string;
  sequence: number;
  /** `resource.resync` re-sends the current desired state at the same generation (protocol item 3). */
  type: 'resource.created' | 'resource.updated' | 'resource.deleted' | 'resource.resync';
  resourceId: string;
  orgId: string;
  generation: number;
  desired: DesiredResource | null;
  traceparent: string | null;
  emittedAt: string;
}

export type Rejection =
  | 'unsigned'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_cell'
  | 'wrong_epoch'
  | 'replayed'
  | 'gap'
  | 'stale'
  /** A sealed secret that fails its signature, names another agent or resource, or does not decrypt. */
  | 'bad_secret'
  /** A snapshot whose signature is missing or does not cover it, or of another cell. */
  | 'bad_snapshot';
export type Verdict = { ok: true; event: AgentEvent } | { ok: false; reason: Rejection };

/** Sorted keys (UTF-16 code units, as JCS), no whitespace, plain JSON only. */
function canonical(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
      .join(',')}}`;
  }
  throw new TypeError(`not plain JSON: ${typeof value}`);
}

const signedFields = [
  'cell',
  'epoch',
  'sequence',
  'type',
  'resourceId',
  'orgId',
  'generation',
  'desired',
  'traceparent',
  'emittedAt',
] as const;

/** `planewright-event-v1\n` + canonical JSON of exactly the signed fields (a missing one stays missing). */
function signingInput(event: Record<string, unknown>): Buffer {
  const fields: Record<string, unknown> = {};
  for (const name of signedFields) if (event[name] !== undefined) fields[name] = event[name];
  return Buffer.from(`planewright-event-v1\n${canonical(fields)}`, 'utf8');
}

/** Pins SPKI PEM public keys by kid, computed here (first 16 chars of base64url SHA-256 of the SPKI DER). */
export function pinKeys(pems: Iterable<string>): Map<string, KeyObject> {
  const pinned = new Map<string, KeyObject>();
  for (const pem of pems) {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('pinned keys must be Ed25519');
    const der = key.export({ type: 'spki', format: 'der' });
    pinned.set(createHash('sha256').update(der).digest('base64url').slice(0, 16), key);
  }
  return pinned;
}

export interface VerifyContext {
  cell: string;
  /** The epoch of the snapshot the agent hydrated from: an event of another history is refused. */
  epoch: string;
  lastAppliedSequence: number;
  generationOf(resourceId: string): number | undefined;
}

/** The documented checks, in the documented order; the first that fails decides. */
export function verifyEvent(
  signed: unknown,
  keys: ReadonlyMap<string, KeyObject>,
  context: VerifyContext,
): Verdict {
  const candidate = signed as { event?: unknown; signature?: unknown; kid?: unknown } | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.event !== 'object' ||
    candidate.event === null
  ) {
    return { ok: false, reason: 'unsigned' };
  }
  const { signature, kid } = candidate;
  if (typeof signature !== 'string' || !signature || typeof kid !== 'string' || !kid)
    return { ok: false, reason: 'unsigned' };
  const key = keys.get(kid);
  if (!key) return { ok: false, reason: 'unknown_key' };
  const raw = candidate.event as Record<string, unknown>;
  let input: Buffer;
  try {
    input = signingInput(raw);
  } catch {
    return { ok: false, reason: 'bad_signature' };
  }
  const bytes = Buffer.from(signature, 'base64url');
  if (bytes.length !== 64 || !verify(null, input, key, bytes)) return { ok: false, reason: 'bad_signature' };
  // only the signed fields go on: anything added in transit is dropped
  const event = Object.fromEntries(signedFields.map((name) => [name, raw[name]])) as unknown as AgentEvent;
  if (event.cell !== context.cell) return { ok: false, reason: 'wrong_cell' };
  // sequences restart in another epoch (a restored or rebuilt database): sequence N of one history
  // says nothing about sequence N of another
  if (event.epoch !== context.epoch) return { ok: false, reason: 'wrong_epoch' };
  if (event.sequence <= context.lastAppliedSequence) return { ok: false, reason: 'replayed' };
  if (event.sequence !== context.lastAppliedSequence + 1) return { ok: false, reason: 'gap' };
  const applied = context.generationOf(event.resourceId);
  if (applied !== undefined && event.generation < applied) return { ok: false, reason: 'stale' };
  return { ok: true, event };
}

export interface SnapshotToVerify {
  cell: string;
  epoch: string | null;
  sequence: number;
  resources: readonly { resourceId: string; desired: unknown }[];
  signature?: unknown;
  kid?: unknown;
}

/**
 * A snapshot's signature (docs/dataplane.md, "Snapshots are signed"): Ed25519 by a pinned key over
 * `planewright-snapshot-v1\n` + canonical JSON of `{cell, epoch, sequence, resources: [{resourceId,
 * desired}]}`. Sealed secrets are outside it (each is signed on its own). The cell must be the agent's.
 */
export function verifySnapshot(
  snapshot: SnapshotToVerify,
  keys: ReadonlyMap<string, KeyObject>,
  cell: string,
): boolean {
  const { signature, kid } = snapshot;
  if (snapshot.cell !== cell || typeof signature !== 'string' || typeof kid !== 'string') return false;
  const key = keys.get(kid);
  const bytes = Buffer.from(signature, 'base64url');
  if (!key || bytes.length !== 64) return false;
  const { epoch, sequence } = snapshot;
  const resources = snapshot.resources.map(({ resourceId, desired }) => ({ resourceId, desired }));
  try {
    const input = Buffer.from(
      `planewright-snapshot-v1\n${canonical({ cell, epoch, sequence, resources })}`,
      'utf8',
    );
    return verify(null, input, key, bytes);
  } catch {
    return false;
  }
}
