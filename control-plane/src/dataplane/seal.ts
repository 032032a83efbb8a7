// Customer secrets on their way to the data plane (issue 5, item 8). A secret travels only inside
// the events and snapshots of its resource's cell, sealed to the X25519 key of the one agent that
// asked (ECDH with a fresh ephemeral key, HKDF-SHA256, AES-256-GCM bound to agent, resource, name
// and version) and signed with the event key, so neither another agent nor anything on the path
// can read it, move it to another resource, or swap in a value of its own. docs/dataplane.md has
// the wire format; simulators/fleet/secrets.ts opens it.
import {
  createCipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { decryptSecret, type KeyEncryptionKey } from '../crypto/envelope.ts';
import type { Queryable } from '../db/pool.ts';
import type { EventSigner } from './signing.ts';

/** A secret's value sealed to one agent; every binary field is base64url. */
export interface AgentSealedSecret {
  name: string;
  version: number;
  resourceId: string;
  agentId: string;
  /** The ephemeral X25519 public key, 32 raw bytes. */
  epk: string;
  iv: string;
  ciphertext: string;
  tag: string;
  kid: string;
  /** Ed25519 (the event key) over `sealedSecretSigningInput(…)`. */
  signature: string;
}

const info = 'planewright-secret-v1';

/** AES-GCM additional data: the ciphertext opens only for this agent, resource, name and version. */
export const sealedSecretAad = (s: Pick<AgentSealedSecret, 'agentId' | 'resourceId' | 'name' | 'version'>) =>
  Buffer.from(`${s.agentId}\n${s.resourceId}\n${s.name}\n${s.version}`, 'utf8');

export const sealedSecretSigningInput = (s: Omit<AgentSealedSecret, 'kid' | 'signature'>) =>
  Buffer.from(
    [info, s.agentId, s.resourceId, s.name, s.version, s.epk, s.iv, s.ciphertext, s.tag].join('\n'),
    'utf8',
  );

/** An agent's X25519 public key from its JWK `x` (base64url, 32 bytes); throws when it is not one. */
export function agentEncryptionKey(x: string): KeyObject {
  if (!/^[A-Za-z0-9_-]{43}$/.test(x))
    throw new RangeError('an X25519 key is 32 bytes in base64url (43 characters)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

/** Seals `value` to one agent. */
export function sealSecret(
  value: string,
  to: { agentId: string; resourceId: string; name: string; version: number; publicKey: KeyObject },
  signer: EventSigner,
): AgentSealedSecret {
  const ephemeral = generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: to.publicKey });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const bound = { agentId: to.agentId, resourceId: to.resourceId, name: to.name, version: to.version };
  cipher.setAAD(sealedSecretAad(bound));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  key.fill(0);
  shared.fill(0);
  const unsigned = {
    ...bound,
    epk: ephemeral.publicKey.export({ format: 'jwk' }).x as string,
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
  return { ...unsigned, kid: signer.kid, signature: signer.signBytes(sealedSecretSigningInput(unsigned)) };
}

/** What `sealForAgent` needs of an entry: its resource and the desired state naming the secret. */
export interface SecretCarrier {
  resourceId: string;
  desired: { orgId: string; spec: Record<string, unknown> } | null;
}

/**
 * Seals, for one agent, the secret each entry's spec names (`spec.secretRef`), reading all the
 * secrets of the page in one query. Returns one list per entry (empty when it names none, or the
 * secret is gone). An agent without an encryption key gets none.
 */
export async function sealForAgent(
  db: Queryable,
  entries: readonly SecretCarrier[],
  agent: { id: string; encryptionKey: KeyObject | null },
  keys: { kek: KeyEncryptionKey; signer: EventSigner },
): Promise<AgentSealedSecret[][]> {
  const refOf = (entry: SecretCarrier) => {
    const ref = entry.desired?.spec.secretRef;
    return typeof ref === 'string' ? { orgId: entry.desired!.orgId, name: ref } : undefined;
  };
  const wanted = entries.map(refOf);
  if (!agent.encryptionKey || !wanted.some(Boolean)) return entries.map(() => []);
  const pairs = [
    ...new Map(wanted.filter((ref) => ref).map((ref) => [`${ref!.orgId}/${ref!.name}`, ref!])).values(),
  ];
  const { rows } = await db.query<{
    id: string;
    org_id: string;
    name: string;
    version: number;
    kek_id: string;
    wrapped_key: Buffer;
    ciphertext: Buffer;
  }>(
    `SELECT s.id, s.org_id, s.name, s.version, s.kek_id, s.wrapped_key, s.ciphertext
       FROM secrets s JOIN unnest($1::uuid[], $2::text[]) AS w(org_id, name) ON s.org_id = w.org_id AND s.name = w.name`,
    [pairs.map((ref) => ref.orgId), pairs.map((ref) => ref.name)],
  );
  const values = new Map<string, { version: number; value: string }>();
  for (const row of rows) {
    const value = decryptSecret(
      { kekId: row.kek_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
      { orgId: row.org_id, secretId: row.id, version: row.version },
      keys.kek,
    );
    values.set(`${row.org_id}/${row.name}`, { version: row.version, value });
  }
  return entries.map((entry, index) => {
    const ref = wanted[index];
    const secret = ref && values.get(`${ref.orgId}/${ref.name}`);
    if (!ref || !secret) return [];
    return [
      sealSecret(
        secret.value,
        {
          agentId: agent.id,
          resourceId: entry.resourceId,
          name: ref.name,
          version: secret.version,
          publicKey: agent.encryptionKey!,
        },
        keys.signer,
      ),
    ];
  });
}
