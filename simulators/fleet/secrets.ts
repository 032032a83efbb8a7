// Secrets sealed to one agent (protocol item 2), opened with node:crypto only: X25519 with a fresh
// ephemeral key per secret, HKDF-SHA256, AES-256-GCM bound to (agent, resource, name, version), and
// an Ed25519 signature by the control plane's pinned event key. A value opened here goes to the
// local data plane and nowhere else: never a log, an error message or a stat.
import {
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  verify,
} from 'node:crypto';
import type { SealedSecret, X25519PublicJwk } from './client.ts';

/** The agent's X25519 key pair as a JWK (`d` private, `x` public): JSON, so it persists with the credentials. */
export interface EncryptionKeyJwk {
  x: string;
  d: string;
}

export function generateEncryptionKey(): EncryptionKeyJwk {
  const { privateKey } = generateKeyPairSync('x25519');
  const { x, d } = privateKey.export({ format: 'jwk' });
  return { x: x!, d: d! };
}

export function encryptionPublicJwk(key: EncryptionKeyJwk): X25519PublicJwk {
  return { kty: 'OKP', crv: 'X25519', x: key.x };
}

export function encryptionPrivateKey(key: EncryptionKeyJwk): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: key.x, d: key.d }, format: 'jwk' });
}

/** Why a sealed secret was refused; the agent counts all of them as the rejection `bad_secret`. */
export type SecretRejection =
  | 'malformed'
  | 'wrong_agent'
  | 'wrong_resource'
  | 'unknown_key'
  | 'bad_signature'
  | 'undecryptable';

export type OpenedSecret =
  | { ok: true; name: string; version: number; value: string }
  | { ok: false; reason: 'bad_secret'; detail: SecretRejection };

export interface OpenContext {
  /** This agent: a secret sealed to another is refused even if it would decrypt. */
  agentId: string;
  /** The resource of the event or snapshot entry that carried it. */
  resourceId: string;
  privateKey: KeyObject;
  /** The control plane's pinned event keys, by kid. */
  keys: ReadonlyMap<string, KeyObject>;
}

const context = 'planewright-secret-v1';
const binaryFields = ['epk', 'iv', 'ciphertext', 'tag', 'signature'] as const;
const base64url = /^[A-Za-z0-9_-]*$/;

/** What the control plane signs: every field that decides what the agent ends up holding. */
export function sealedSigningInput(sealed: Omit<SealedSecret, 'kid' | 'signature'>): Buffer {
  const { agentId, resourceId, name, version, epk, iv, ciphertext, tag } = sealed;
  return Buffer.from(
    `${context}\n${agentId}\n${resourceId}\n${name}\n${version}\n${epk}\n${iv}\n${ciphertext}\n${tag}`,
    'utf8',
  );
}

/** The AES-GCM associated data: a ciphertext moved to another agent, resource, name or version fails. */
export function sealedAad(agentId: string, resourceId: string, name: string, version: number): Buffer {
  return Buffer.from(`${agentId}\n${resourceId}\n${name}\n${version}`, 'utf8');
}

/** The documented checks in order: shape, addressee, signature, then decryption. */
export function openSealedSecret(sealed: unknown, open: OpenContext): OpenedSecret {
  const refuse = (detail: SecretRejection): OpenedSecret => ({ ok: false, reason: 'bad_secret', detail });
  const candidate = sealed as Partial<Record<keyof SealedSecret, unknown>> | null;
  if (typeof candidate !== 'object' || candidate === null) return refuse('malformed');
  const { name, version, agentId, resourceId, kid } = candidate;
  if (
    typeof name !== 'string' ||
    typeof agentId !== 'string' ||
    typeof resourceId !== 'string' ||
    typeof kid !== 'string' ||
    !Number.isSafeInteger(version) ||
    binaryFields.some((field) => typeof candidate[field] !== 'string' || !base64url.test(candidate[field]))
  )
    return refuse('malformed');
  const secret = candidate as SealedSecret;
  if (agentId !== open.agentId) return refuse('wrong_agent');
  if (resourceId !== open.resourceId) return refuse('wrong_resource');
  const key = open.keys.get(kid);
  if (!key) return refuse('unknown_key');
  const signature = Buffer.from(secret.signature, 'base64url');
  if (signature.length !== 64 || !verify(null, sealedSigningInput(secret), key, signature))
    return refuse('bad_signature');
  const iv = Buffer.from(secret.iv, 'base64url');
  const tag = Buffer.from(secret.tag, 'base64url');
  if (iv.length !== 12 || tag.length !== 16 || Buffer.from(secret.epk, 'base64url').length !== 32)
    return refuse('undecryptable');
  try {
    const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: secret.epk }, format: 'jwk' });
    const shared = diffieHellman({ privateKey: open.privateKey, publicKey: ephemeral });
    const aesKey = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), context, 32));
    const decipher = createDecipheriv('aes-256-gcm', aesKey, iv, { authTagLength: 16 });
    decipher.setAAD(sealedAad(agentId, resourceId, name, secret.version));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(secret.ciphertext, 'base64url')),
      decipher.final(),
    ]);
    return { ok: true, name, version: secret.version, value: plaintext.toString('utf8') };
  } catch {
    // the cause (a bad tag, a small-order point) says nothing useful, and must not carry key material
    return refuse('undecryptable');
  }
}
