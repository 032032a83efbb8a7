// What an agent runs on every event it receives. The fleet simulator imports this module through
// control-plane/index.ts, so it must stay free of control-plane imports: node:crypto only.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';

/** `resource.resync`: the current desired state sent again at the same generation (drift, a retry, a rotated secret). */
export type EventType = 'resource.created' | 'resource.updated' | 'resource.deleted' | 'resource.resync';

/** What the agent is told to do: `active` covers the control plane's pending, provisioning, ready and failed. */
export type DesiredPhase = 'active' | 'suspended' | 'deprovisioning';

/** A resource's desired state, as events and snapshots carry it. */
export interface DesiredResource {
  kind: string;
  name: string;
  spec: Record<string, unknown>;
  generation: number;
  phase: DesiredPhase;
  orgId: string;
  cell: string;
}

/** One change of a cell's desired state: every field is covered by the signature. */
export interface OutboxEvent {
  cell: string;
  /**
   * Names the history of the cell's sequences the event belongs to (`outbox_cells.epoch`): a
   * restored or rebuilt database restarts the sequences under another epoch, so a signed event of
   * the old history cannot pass for one of the new.
   */
  epoch: string;
  /** Gapless and increasing per cell (within an epoch). */
  sequence: number;
  type: EventType;
  resourceId: string;
  orgId: string;
  generation: number;
  /** The desired state after the change; null for `resource.deleted` (the resource left the cell). */
  desired: DesiredResource | null;
  /** W3C traceparent of the transaction that made the change; null for a change made by hand. */
  traceparent: string | null;
  /** ISO 8601, when the change was written. */
  emittedAt: string;
}

export interface SignedEvent {
  event: OutboxEvent;
  /** Ed25519 over `signingInput(event)`, base64url. */
  signature: string;
  /** Which control-plane key signed it: `keyId(publicKey)`. */
  kid: string;
}

/**
 * JSON with object keys sorted (by UTF-16 code unit, as RFC 8785 JCS) and no whitespace. Signer and
 * verifier must agree on bytes, but JSON objects are unordered: Postgres jsonb reorders keys and a
 * proxy or a parser may too. Values are plain JSON (strings, safe numbers, booleans, null); anything
 * else throws, so a malformed event cannot pass for a signed one.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a number in a signed event must be finite');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new TypeError(`a signed event cannot hold a ${typeof value}`);
}

// a prefix of our own: a signature over an event can never be presented as one over anything else
const signingContext = 'planewright-event-v1\n';

/** The fields the signature covers, and only those: anything else in an event is not trusted. */
function signedFields(event: OutboxEvent): OutboxEvent {
  const { cell, epoch, sequence, type, resourceId, orgId, generation, desired, traceparent, emittedAt } =
    event;
  return { cell, epoch, sequence, type, resourceId, orgId, generation, desired, traceparent, emittedAt };
}

/** The exact bytes signed: the context line, then the signed fields in canonical JSON. */
export function signingInput(event: OutboxEvent): Buffer {
  return Buffer.from(signingContext + canonicalJson(signedFields(event)), 'utf8');
}

/** What a snapshot's signature covers: the cell, its history and sequence, and every resource. */
export interface SignedSnapshotFields {
  cell: string;
  epoch: string | null;
  sequence: number;
  resources: ReadonlyArray<{ resourceId: string; desired: DesiredResource }>;
}

const snapshotContext = 'planewright-snapshot-v1\n';

/**
 * The exact bytes a snapshot's signature covers: its own context line (a snapshot's signature can
 * never pass for an event's), then cell, epoch, sequence and resources in canonical JSON. Sealed
 * secrets are not covered: each carries its own signature.
 */
export function snapshotSigningInput(snapshot: SignedSnapshotFields): Buffer {
  const { cell, epoch, sequence } = snapshot;
  const resources = snapshot.resources.map(({ resourceId, desired }) => ({ resourceId, desired }));
  return Buffer.from(snapshotContext + canonicalJson({ cell, epoch, sequence, resources }), 'utf8');
}

/** Checks a snapshot's signature against the pinned keys; the cell must be the agent's own. */
export function verifySnapshotSignature(
  snapshot: SignedSnapshotFields & { signature?: unknown; kid?: unknown },
  keys: PinnedKeys,
  cell: string,
): boolean {
  if (snapshot.cell !== cell || typeof snapshot.signature !== 'string' || typeof snapshot.kid !== 'string')
    return false;
  const key = keys.get(snapshot.kid);
  if (!key) return false;
  try {
    return verify(null, snapshotSigningInput(snapshot), key, Buffer.from(snapshot.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** A short name for a public key: the first 16 characters of the base64url SHA-256 of its SPKI DER. */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 16);
}

/** Public keys an agent trusts, by kid. */
export type PinnedKeys = ReadonlyMap<string, KeyObject>;

/**
 * Pins the control plane's public keys (SPKI PEM, base64 SPKI DER, or KeyObjects); more than one
 * during a key rotation. The kid is computed here, never taken from the sender.
 */
export function pinPublicKeys(keys: Iterable<KeyObject | string>): PinnedKeys {
  const pinned = new Map<string, KeyObject>();
  for (const key of keys) {
    const object =
      typeof key !== 'string'
        ? key
        : key.includes('-----BEGIN')
          ? createPublicKey(key)
          : createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
    const publicKey = object.type === 'private' ? createPublicKey(object) : object;
    if (publicKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError(
        `PW_EVENT_KEY_TYPE: pinned keys must be Ed25519, not ${publicKey.asymmetricKeyType}`,
      );
    }
    pinned.set(keyId(publicKey), publicKey);
  }
  return pinned;
}

export interface VerifyOptions {
  /** The highest sequence the agent has applied in this cell; an event at or below it is a replay. */
  lastAppliedSequence?: number;
  /** The generation the agent last applied for a resource; an event with a lower one is stale. */
  lastAppliedGenerationOf?: (resourceId: string) => number | undefined;
  /** An event emitted longer ago than this is stale: the agent re-hydrates from a snapshot instead. */
  maxAgeMs?: number;
  /** Default: Date.now(). */
  now?: number | Date;
  /** The agent's own cell: an event of another cell is refused even when its signature is good. */
  cell?: string;
  /**
   * The epoch of the snapshot the agent hydrated from: an event of another epoch belongs to another
   * history of the cell's sequences (before a database restore or rebuild, or after one) and is
   * refused even when its signature is good; the agent re-hydrates from a snapshot.
   */
  epoch?: string;
  /**
   * Refuse an event that is not exactly the one after `lastAppliedSequence`: sequences have no
   * gaps, so a gap means events were lost (pruned, dropped in transit) and the agent must
   * re-hydrate from a snapshot rather than skip them.
   */
  requireNext?: boolean;
}

export type VerifyFailure =
  | 'unsigned'
  | 'bad_signature'
  | 'unknown_key'
  | 'replayed'
  | 'stale'
  | 'gap'
  | 'wrong_cell'
  | 'wrong_epoch';
export type VerifyResult =
  | { outcome: 'ok'; event: OutboxEvent }
  | { outcome: VerifyFailure; message: string };

const fail = (outcome: VerifyFailure, message: string): VerifyResult => ({ outcome, message });

/**
 * Checks a received event before the agent applies it, in this order: it is signed, by a pinned key,
 * the signature covers it unchanged, it is for this cell and epoch, it is newer than what was applied, and it
 * is recent enough. On `ok`, `event` holds the signed fields only (anything added in transit is gone).
 *
 * @example verifySignedEvent(signed, pinPublicKeys([pem]), { lastAppliedSequence: 41, maxAgeMs: 86_400_000 })
 */
export function verifySignedEvent(
  signed: unknown,
  keys: PinnedKeys,
  options: VerifyOptions = {},
): VerifyResult {
  const candidate = signed as Partial<SignedEvent> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.event !== 'object') {
    return fail('unsigned', 'not a signed event: expected { event, signature, kid }');
  }
  const { signature, kid } = candidate;
  if (typeof signature !== 'string' || !signature || typeof kid !== 'string' || !kid) {
    return fail('unsigned', 'the event carries no signature or no kid');
  }
  const key = keys.get(kid);
  if (!key) return fail('unknown_key', `kid "${kid.slice(0, 32)}" is not a pinned control-plane key`);
  const event = candidate.event as OutboxEvent;
  let input: Buffer;
  try {
    input = signingInput(event);
  } catch (error) {
    return fail('bad_signature', `the event is malformed: ${(error as Error).message}`);
  }
  const bytes = Buffer.from(signature, 'base64url');
  if (bytes.length !== 64 || !verify(null, input, key, bytes)) {
    return fail('bad_signature', 'the signature does not match the event: it was altered or forged');
  }
  const verified = signedFields(event);
  const { cell, epoch, sequence, resourceId, generation, emittedAt } = verified;
  if (options.cell !== undefined && cell !== options.cell) {
    return fail('wrong_cell', `the event belongs to cell "${cell}", not "${options.cell}"`);
  }
  if (options.epoch !== undefined && epoch !== options.epoch) {
    return fail(
      'wrong_epoch',
      `the event belongs to epoch "${String(epoch).slice(0, 32)}" of the cell, not "${options.epoch}": ` +
        "the cell's history was restarted (a restored or rebuilt database); re-hydrate from a snapshot",
    );
  }
  if (options.lastAppliedSequence !== undefined && sequence <= options.lastAppliedSequence) {
    return fail(
      'replayed',
      `sequence ${sequence} is not after the last applied ${options.lastAppliedSequence}`,
    );
  }
  if (
    options.requireNext &&
    options.lastAppliedSequence !== undefined &&
    sequence !== options.lastAppliedSequence + 1
  ) {
    return fail(
      'gap',
      `sequence ${sequence} does not follow the last applied ${options.lastAppliedSequence}`,
    );
  }
  const applied = options.lastAppliedGenerationOf?.(resourceId);
  if (applied !== undefined && generation < applied) {
    return fail('stale', `generation ${generation} of ${resourceId} is older than the applied ${applied}`);
  }
  if (options.maxAgeMs !== undefined) {
    const now = options.now === undefined ? Date.now() : new Date(options.now).getTime();
    const ageMs = now - Date.parse(emittedAt);
    if (!(ageMs <= options.maxAgeMs)) {
      return fail(
        'stale',
        `emitted ${Math.round(ageMs)} ms ago, more than the allowed ${options.maxAgeMs} ms`,
      );
    }
  }
  return { outcome: 'ok', event: verified };
}
