import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import type { Config } from '../config.ts';
import { keyId, type OutboxEvent, type SignedEvent, signingInput } from './verify.ts';

/** The control plane's event-signing key: agents pin `publicKeyPem` (or `kid`'s key) ahead of time. */
export interface EventSigner {
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** SPKI PEM, to hand to agents. */
  readonly publicKeyPem: string;
  /** Made up at start-up (test mode): no agent configured beforehand can trust it. */
  readonly generated: boolean;
  /** @example const { signature, kid } = signer.signEvent(event) */
  signEvent(event: OutboxEvent): SignedEvent;
  /** Ed25519 over any bytes (sealed secrets), base64url; not cached. */
  signBytes(input: Buffer): string;
}

/** EVENT_SIGNING_KEY that is not an Ed25519 private key; the message never quotes the key. */
export class SigningKeyError extends Error {
  readonly code = 'PW_EVENT_SIGNING_KEY_INVALID';
  constructor(reason: string) {
    super(
      `PW_EVENT_SIGNING_KEY_INVALID: ${reason}; expected an Ed25519 private key as PKCS8 PEM or its DER ` +
        'in base64 (openssl genpkey -algorithm ed25519)',
    );
    this.name = 'SigningKeyError';
  }
}

/** Reads an Ed25519 private key from PKCS8 PEM or base64 PKCS8 DER. */
export function parseSigningKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new SigningKeyError('it is not a readable private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`it is a ${key.asymmetricKeyType} key`);
  }
  return key;
}

/**
 * A signer over one private key. Ed25519 is deterministic, so signatures are cached by the hash of
 * what was signed: when a whole cell's agents reconnect and read the same events, each is signed
 * once (about 22 µs) and looked up afterwards (about 1 µs).
 */
export function createEventSigner(
  privateKey: KeyObject,
  options: { cacheSize?: number; generated?: boolean } = {},
): EventSigner {
  const cacheSize = options.cacheSize ?? 10_000;
  const publicKey = createPublicKey(privateKey);
  const kid = keyId(publicKey);
  const cache = new Map<string, string>();
  return {
    kid,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    generated: options.generated ?? false,
    signEvent(event) {
      const input = signingInput(event);
      const digest = createHash('sha256').update(input).digest('base64url');
      let signature = cache.get(digest);
      if (signature === undefined) {
        signature = sign(null, input, privateKey).toString('base64url');
        // oldest first out: Map keeps insertion order
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        if (cacheSize > 0) cache.set(digest, signature);
      }
      return { event, signature, kid };
    },
    signBytes(input) {
      return sign(null, input, privateKey).toString('base64url');
    },
  };
}

/** A freshly generated key, as TEST_MODE uses when EVENT_SIGNING_KEY is unset. */
export function generateEventSigningKey(): { privateKey: KeyObject; pkcs8Pem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, pkcs8Pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The signer configured by EVENT_SIGNING_KEY; in test mode without one, a key generated now. Agents
 * pin the public key, so a generated one suits only tests that read it from this process.
 */
export function eventSignerFromConfig(config: Pick<Config, 'EVENT_SIGNING_KEY' | 'TEST_MODE'>): EventSigner {
  if (config.EVENT_SIGNING_KEY) return createEventSigner(config.EVENT_SIGNING_KEY);
  if (!config.TEST_MODE) {
    throw new SigningKeyError('EVENT_SIGNING_KEY is unset (only test mode may generate one)');
  }
  return createEventSigner(generateEventSigningKey().privateKey, { generated: true });
}
