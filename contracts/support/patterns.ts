// Matchers for the values the provider makes up (tokens, ids, signatures, sequences, times): the
// contract pins their form, never a value. Anchored regexes, so "contains a uuid" never passes for
// "is a uuid" (Pact's own `uuid()` is not anchored).
import { MatchersV3 } from '@pact-foundation/pact';

const { regex } = MatchersV3;

export const examples = {
  agentId: '0c5a3f1e-7b2d-4e8a-9f61-2d4b8c7e1a90',
  resourceId: '6d1f7a56-3c1e-4b4e-9a43-3f1f1d6c2a10',
  orgId: '0b7f1d3e-8f0a-4a39-8e1c-5b2f3a1d9c77',
  bootstrapToken: 'pwb_Q2vX3m9kR1tYb7nL0pZc4sWf8hJd6gAe2uKx5oVi3yT',
  agentToken: 'pwa_3f9a1c7e5b2d_Xk4mP9qR2sT7vW1yZ3bC5dE8fG0hJ6kL2nQ4rS7uV9w',
  kid: 'iOwOCnZUZI9Uqla2',
  signature: 'kRrpHmRkOqNihn4tz8H2Vn17NzJ5FxIWXawdDsQQNmypbPdUgQzdVCYC2rMmLwgz0FK8jFBpjFfqMJ2cxOvuCQ',
  publicKeyPem:
    '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA3IrWGHyg/drDOcyBBq1kMVIHk9A+L2Qv4VDMuPv40dY=\n-----END PUBLIC KEY-----\n',
  etag: '"5f3a9c1e.41"',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  emittedAt: '2030-01-01T12:00:00.123Z',
  /** A real X25519 public key (JWK `x`): the provider checks it is one. */
  encryptionKeyX: '3VkwACTqsQvGJpiSh1AsZ6xGiBovigKnKhpW7avlLTA',
  sealed: {
    epk: 'oLXmNSJyYc86en1_Hvpt3V2rGQaPfY7i31sg5gA8slY',
    iv: 'uwHfVSdxuyplxiub',
    ciphertext: 'Fcc_sk_EPdkpzRF1V-I71IN6IL6IDD7H',
    tag: 'sPRSNPqnNgKD2d0QR8kTbw',
  },
};

export const uuid = (example: string) =>
  regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, example);
/** The agent credential, `pwa_<prefix>_<secret>`. */
export const agentToken = (example = examples.agentToken) =>
  regex(/^pwa_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/, example);
/** 16 characters of base64url. */
export const kid = (example = examples.kid) => regex(/^[A-Za-z0-9_-]{16}$/, example);
/** Ed25519, 64 bytes in base64url. */
export const signature = (example = examples.signature) => regex(/^[A-Za-z0-9_-]{86}$/, example);
export const publicKeyPem = (example = examples.publicKeyPem) =>
  regex(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/, example);
/** `bytes` bytes in base64url without padding. */
export const base64url = (bytes: number, example: string) =>
  regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`), example);
/** A strong ETag: a quoted opaque string. */
export const etag = (example = examples.etag) => regex(/^"[^"]+"$/, example);
export const traceparent = (example = examples.traceparent) =>
  regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, example);
/** ISO 8601 in UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const isoMillis = (example = examples.emittedAt) =>
  regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, example);
/**
 * `${key}` in Pact's provider-state expression syntax, for `fromProviderState`: the provider state
 * answers `{ key: value }` and the verifier puts the value there.
 */
export const stateRef = (key: string) => `\${${key}}`;

/** `Retry-After` in whole seconds. */
export const retryAfterSeconds = (example: string) => regex(/^[1-9][0-9]*$/, example);
