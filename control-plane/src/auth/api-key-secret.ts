import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// `pw_<prefix>_<secret>`: the prefix finds the row, the hash of the whole key proves it
const keyPattern = /^pw_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(8).toString('hex').slice(0, 12);
  const key = `pw_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** SHA-256 is enough: the secret has 256 random bits, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyPrefix(key: string): string | undefined {
  return keyPattern.exec(key)?.[1];
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
