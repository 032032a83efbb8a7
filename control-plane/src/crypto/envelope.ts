import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';

// AES-256-GCM with the recommended 96-bit IV and a full 128-bit tag; packed as iv | tag | ciphertext
const algorithm = 'aes-256-gcm';
const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;

/** A key-encryption key; its id is stored beside every data key it wraps, so keys can be rotated. */
export interface KeyEncryptionKey {
  id: string;
  key: Buffer;
}

/** What a ciphertext is bound to: copied to another row, organization or version, it no longer opens. */
export interface SecretBinding {
  orgId: string;
  secretId: string;
  version: number;
}

/** The stored form of a secret: columns `kek_id`, `wrapped_key` and `ciphertext`. */
export interface SealedSecret {
  kekId: string;
  wrappedKey: Buffer;
  ciphertext: Buffer;
}

/** A sealed secret that cannot be opened: altered, moved to another row, or wrapped by an unknown key. */
export class SecretDecryptionError extends Error {
  readonly code = 'PW_SECRET_UNREADABLE';
  constructor(message: string) {
    super(`PW_SECRET_UNREADABLE: ${message}`);
    this.name = 'SecretDecryptionError';
  }
}

/** The key-encryption key configured by SECRETS_KEK and SECRETS_KEK_ID. */
export function kekFromConfig(config: Pick<Config, 'SECRETS_KEK' | 'SECRETS_KEK_ID'>): KeyEncryptionKey {
  return { id: config.SECRETS_KEK_ID, key: config.SECRETS_KEK };
}

// distinct labels: a wrapped data key can never pass for a value ciphertext, nor the reverse
const associatedData = (binding: SecretBinding, part: 'value' | 'data-key') =>
  Buffer.from(`planewright/secret/v1|${binding.orgId}|${binding.secretId}|${binding.version}|${part}`);

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagBytes });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

function open(key: Buffer, packed: Buffer, aad: Buffer, what: string): Buffer {
  if (packed.length < ivBytes + tagBytes) throw new SecretDecryptionError(`the ${what} is truncated`);
  const decipher = createDecipheriv(algorithm, key, packed.subarray(0, ivBytes), { authTagLength: tagBytes });
  decipher.setAuthTag(packed.subarray(ivBytes, ivBytes + tagBytes));
  decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(packed.subarray(ivBytes + tagBytes)), decipher.final()]);
  } catch {
    throw new SecretDecryptionError(
      `the ${what} failed authentication: it was altered, or belongs to another secret or version`,
    );
  }
}

/**
 * Encrypts `value` under a fresh random data key, and wraps that key under the key-encryption key.
 * The plaintext data key never leaves this function.
 */
export function encryptSecret(value: string, binding: SecretBinding, kek: KeyEncryptionKey): SealedSecret {
  const dataKey = randomBytes(keyBytes);
  const plaintext = Buffer.from(value, 'utf8');
  try {
    return {
      kekId: kek.id,
      ciphertext: seal(dataKey, plaintext, associatedData(binding, 'value')),
      wrappedKey: seal(kek.key, dataKey, associatedData(binding, 'data-key')),
    };
  } finally {
    dataKey.fill(0);
    plaintext.fill(0);
  }
}

/**
 * Opens a sealed secret; `keyring` holds the current key-encryption key and any older ones still in use.
 * For the data plane's delivery path only: the user API never returns a secret's value.
 */
export function decryptSecret(
  sealed: SealedSecret,
  binding: SecretBinding,
  keyring: KeyEncryptionKey | readonly KeyEncryptionKey[],
): string {
  const keys = Array.isArray(keyring) ? keyring : [keyring as KeyEncryptionKey];
  const kek = keys.find((candidate) => candidate.id === sealed.kekId);
  if (!kek) {
    throw new SecretDecryptionError(
      `no key-encryption key "${sealed.kekId}" in the keyring; keep retired keys until every secret is re-wrapped`,
    );
  }
  const dataKey = open(kek.key, sealed.wrappedKey, associatedData(binding, 'data-key'), 'wrapped data key');
  try {
    return open(dataKey, sealed.ciphertext, associatedData(binding, 'value'), 'ciphertext').toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}
