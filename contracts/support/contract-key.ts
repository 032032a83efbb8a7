// The event-signing key of the message contract: a fixed Ed25519 key, derived from a published seed,
// so the key is a test fixture, never a secret. The consumer pins its public key (it is in the
// contract's provider state); the provider verification runs the control plane with it as
// EVENT_SIGNING_KEY. Ed25519 is deterministic, so the same event signed with it always carries the
// same signature: that is what lets the message contract pin signatures by value (see
// agent-events.consumer.test.ts).
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

// PKCS8 DER of an Ed25519 private key is this fixed header followed by the 32-byte seed (RFC 8410)
const pkcs8Ed25519Header = Buffer.from('302e020100300506032b657004220420', 'hex');
const seed = createHash('sha256').update('planewright contract test key v1 (public; tests only)').digest();
const der = Buffer.concat([pkcs8Ed25519Header, seed]);

const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
const publicKey = createPublicKey(privateKey);

/** The contract's signing key. Never configure it anywhere but a test control plane. */
export const contractKey = {
  /** For the control plane's EVENT_SIGNING_KEY (PKCS8 DER in base64). */
  privateKeyBase64: der.toString('base64'),
  /** SPKI PEM: what an agent pins. */
  publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  /** As docs/dataplane.md defines it: the first 16 characters of the base64url SHA-256 of the SPKI DER. */
  kid: createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 16),
};
