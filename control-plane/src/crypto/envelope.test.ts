import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, type SealedSecret, SecretDecryptionError } from './envelope.ts';

const kek = { id: 'kek-1', key: randomBytes(32) };
const binding = { orgId: randomUUID(), secretId: randomUUID(), version: 1 };

const flipByte = (buffer: Buffer, index: number) => {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};

describe('envelope encryption', () => {
  it('round-trips a value, including multi-byte text, without the plaintext in the sealed form', () => {
    const value = 'postgres://app:s3cr3t-pässwörd@db.internal/app';
    const sealed = encryptSecret(value, binding, kek);
    expect(sealed.kekId).toBe('kek-1');
    // iv (12) | tag (16) | ciphertext: the value's UTF-8 length; the wrapped key holds a 32-byte key
    expect(sealed.ciphertext.length).toBe(12 + 16 + Buffer.byteLength(value));
    expect(sealed.wrappedKey.length).toBe(12 + 16 + 32);
    expect(sealed.ciphertext.includes(Buffer.from(value))).toBe(false);
    expect(decryptSecret(sealed, binding, kek)).toBe(value);
  });

  it('uses a fresh data key and IV every time: one value sealed twice looks unrelated', () => {
    const a = encryptSecret('same value', binding, kek);
    const b = encryptSecret('same value', binding, kek);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.subarray(0, 12).equals(b.ciphertext.subarray(0, 12))).toBe(false);
  });

  it('refuses a ciphertext moved to another secret, organization or version', () => {
    const sealed = encryptSecret('bound', binding, kek);
    for (const other of [
      { ...binding, secretId: randomUUID() },
      { ...binding, orgId: randomUUID() },
      { ...binding, version: 2 },
    ]) {
      expect(() => decryptSecret(sealed, other, kek)).toThrow(SecretDecryptionError);
    }
  });

  it('refuses an altered IV, tag, ciphertext or wrapped key, and swapped parts', () => {
    const sealed = encryptSecret('tamper me', binding, kek);
    const other = encryptSecret('tamper me', binding, kek);
    const variants: SealedSecret[] = [
      { ...sealed, ciphertext: flipByte(sealed.ciphertext, 0) },
      { ...sealed, ciphertext: flipByte(sealed.ciphertext, 14) },
      { ...sealed, ciphertext: flipByte(sealed.ciphertext, sealed.ciphertext.length - 1) },
      { ...sealed, wrappedKey: flipByte(sealed.wrappedKey, 40) },
      { ...sealed, ciphertext: sealed.ciphertext.subarray(0, 20) },
      // a data key from another envelope does not open this ciphertext
      { ...sealed, wrappedKey: other.wrappedKey },
      // the wrapped key is not accepted where the value belongs
      { ...sealed, ciphertext: sealed.wrappedKey },
    ];
    for (const variant of variants) {
      expect(() => decryptSecret(variant, binding, kek)).toThrow(/PW_SECRET_UNREADABLE/);
    }
  });

  it('finds the wrapping key by id in a keyring, and names a missing one', () => {
    const old = { id: 'kek-0', key: randomBytes(32) };
    const sealed = encryptSecret('rotated', binding, old);
    expect(decryptSecret(sealed, binding, [kek, old])).toBe('rotated');
    expect(() => decryptSecret(sealed, binding, kek)).toThrow(/no key-encryption key "kek-0"/);
    // same id, wrong key material
    expect(() => decryptSecret(sealed, binding, { id: 'kek-0', key: randomBytes(32) })).toThrow(
      SecretDecryptionError,
    );
  });
});
