// Sealed secrets (protocol item 2): what the control plane seals (the test sealer, written from the
// protocol text in gateway-testing.ts) the agent opens, and every altered or misaddressed one is
// refused without a value.
import { generateKeyPairSync, sign } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { SealedSecret } from './client.ts';
import { kidOf, sealSecret } from './gateway-testing.ts';
import { HeldSecret } from './local.ts';
import {
  encryptionPrivateKey,
  encryptionPublicJwk,
  generateEncryptionKey,
  openSealedSecret,
  sealedSigningInput,
} from './secrets.ts';
import { pinKeys } from './verify.ts';

const controlPlane = generateKeyPairSync('ed25519');
const kid = kidOf(controlPlane.publicKey);
const keys = pinKeys([controlPlane.publicKey.export({ type: 'spki', format: 'pem' }).toString()]);
// through JSON and back, as a restarted agent reads it from its credentials
const agentKey = JSON.parse(JSON.stringify(generateEncryptionKey()));
const agentId = '5a1c0f6e-0000-4000-8000-00000000000a';
const resourceId = '5a1c0f6e-0000-4000-8000-00000000000b';
const value = 'postgres://app:s3cr3t-💡@db/orders';

const sealed = sealSecret({
  agentId,
  resourceId,
  name: 'db-password',
  version: 3,
  value,
  recipient: encryptionPublicJwk(agentKey),
  signingKey: controlPlane.privateKey,
  kid,
});
const context = { agentId, resourceId, privateKey: encryptionPrivateKey(agentKey), keys };

/** Alters a field and signs again with the control plane's key: only decryption can catch it. */
function resigned(secret: SealedSecret, change: Partial<SealedSecret>): SealedSecret {
  const altered = { ...secret, ...change };
  return {
    ...altered,
    signature: sign(null, sealedSigningInput(altered), controlPlane.privateKey).toString('base64url'),
  };
}

function flipFirstByte(text: string): string {
  const bytes = Buffer.from(text, 'base64url');
  bytes[0]! ^= 1;
  return bytes.toString('base64url');
}

describe('openSealedSecret', () => {
  it('opens what the control plane sealed to this agent, for this resource', () => {
    expect(openSealedSecret(sealed, context)).toEqual({ ok: true, name: 'db-password', version: 3, value });
  });

  it('refuses a tampered ciphertext: unsigned as bad_signature, re-signed as undecryptable', () => {
    const ciphertext = flipFirstByte(sealed.ciphertext);
    expect(openSealedSecret({ ...sealed, ciphertext }, context)).toMatchObject({
      ok: false,
      reason: 'bad_secret',
      detail: 'bad_signature',
    });
    expect(openSealedSecret(resigned(sealed, { ciphertext }), context)).toMatchObject({
      detail: 'undecryptable',
    });
    expect(openSealedSecret(resigned(sealed, { tag: flipFirstByte(sealed.tag) }), context)).toMatchObject({
      detail: 'undecryptable',
    });
    // the version is bound in the AAD: a re-signed version bump does not decrypt
    expect(openSealedSecret(resigned(sealed, { version: 4 }), context)).toMatchObject({
      detail: 'undecryptable',
    });
  });

  it('refuses a secret sealed to another agent, or for another resource', () => {
    expect(openSealedSecret(sealed, { ...context, agentId: 'another-agent' })).toMatchObject({
      detail: 'wrong_agent',
    });
    expect(openSealedSecret(sealed, { ...context, resourceId: 'another-resource' })).toMatchObject({
      detail: 'wrong_resource',
    });
    // relabelled for this agent and re-signed: the key and the AAD are still the other agent's
    const otherKey = generateEncryptionKey();
    const forOther = sealSecret({
      agentId: 'another-agent',
      resourceId,
      name: 'db-password',
      version: 3,
      value,
      recipient: encryptionPublicJwk(otherKey),
      signingKey: controlPlane.privateKey,
      kid,
    });
    expect(openSealedSecret(resigned(forOther, { agentId }), context)).toMatchObject({
      detail: 'undecryptable',
    });
    // sealed to this agent's id but to another agent's key
    const wrongKey = sealSecret({
      agentId,
      resourceId,
      name: 'db-password',
      version: 3,
      value,
      recipient: encryptionPublicJwk(otherKey),
      signingKey: controlPlane.privateKey,
      kid,
    });
    expect(openSealedSecret(wrongKey, context)).toMatchObject({ detail: 'undecryptable' });
  });

  it('refuses a signature by another key, an unknown kid, and malformed input', () => {
    const intruder = generateKeyPairSync('ed25519');
    const forged = {
      ...sealed,
      signature: sign(null, sealedSigningInput(sealed), intruder.privateKey).toString('base64url'),
    };
    expect(openSealedSecret(forged, context)).toMatchObject({ detail: 'bad_signature' });
    expect(openSealedSecret({ ...sealed, kid: kidOf(intruder.publicKey) }, context)).toMatchObject({
      detail: 'unknown_key',
    });
    expect(openSealedSecret({ ...sealed, signature: '' }, context)).toMatchObject({
      detail: 'bad_signature',
    });
    expect(openSealedSecret({ ...sealed, version: '3' }, context)).toMatchObject({ detail: 'malformed' });
    expect(openSealedSecret({ ...sealed, iv: 'not base64url!' }, context)).toMatchObject({
      detail: 'malformed',
    });
    expect(openSealedSecret(null, context)).toMatchObject({ detail: 'malformed' });
  });

  it('a refusal and a held secret never show the value', () => {
    const refused = openSealedSecret(resigned(sealed, { tag: flipFirstByte(sealed.tag) }), context);
    expect(JSON.stringify(refused)).not.toContain('s3cr3t');
    const held = new HeldSecret('db-password', 3, value);
    expect(held.value).toBe(value);
    expect(JSON.stringify({ held })).not.toContain('s3cr3t');
    expect(inspect({ held }, { depth: 5 })).not.toContain('s3cr3t');
    expect(Object.keys(held)).not.toContain('value');
  });
});
