// Bearer secrets the control plane hands out (API keys, invitation tokens) and compares (the
// admin token): stored only as SHA-256 hashes, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// `pw_<prefix>_<secret>`: the prefix finds the row, the hash of the whole key proves it
const keyPattern = /^pw_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** SHA-256 is enough: every secret here has 256 random bits, so there is nothing to brute-force. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares two secrets in constant time, whatever their lengths. */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );
}

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(8).toString('hex').slice(0, 12);
  const key = `pw_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: sha256Hex(key) };
}

export function apiKeyPrefix(key: string): string | undefined {
  return keyPattern.exec(key)?.[1];
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(sha256Hex(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
