// The tenant's signing keys. Rotation works as on Auth0: a new key signs from now on, the previous
// one stays published in the JWKS (so tokens it signed still verify) until its grace period on the
// simulator clock ends, and then it is gone: tokens it signed no longer verify anywhere.
import { createHash, generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsa = promisify(generateKeyPair);

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public half as a JWK, as /.well-known/jwks.json publishes it. */
  jwk: { kty: 'RSA'; use: 'sig'; alg: string; kid: string; n: string; e: string };
  createdAtMs: number;
  /** When it leaves the JWKS; null while it is the signing key. */
  retiresAtMs: number | null;
}

function toSigningKey(privateKey: KeyObject, publicKey: KeyObject, alg: string, nowMs: number): SigningKey {
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint: the required members in lexicographic order, no whitespace
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    jwk: { kty: 'RSA', use: 'sig', alg, kid, n, e },
    createdAtMs: nowMs,
    retiresAtMs: null,
  };
}

export class KeyRing {
  readonly alg: string;
  readonly graceMs: number;
  readonly #initial: SigningKey;
  // the signing key first, then keys in their grace period, newest first
  #keys: SigningKey[];

  constructor(options: { alg: string; graceMs: number; nowMs: number }) {
    this.alg = options.alg;
    this.graceMs = options.graceMs;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#initial = toSigningKey(privateKey, publicKey, options.alg, options.nowMs);
    this.#keys = [this.#initial];
  }

  /** The key that signs now. */
  get current(): SigningKey {
    return this.#keys[0]!;
  }

  /** The keys in the JWKS at `nowMs`: the signing key and those still in their grace period. */
  published(nowMs: number): SigningKey[] {
    this.#keys = this.#keys.filter((key) => key.retiresAtMs === null || key.retiresAtMs > nowMs);
    return [...this.#keys];
  }

  /** The public key for a token's `kid`, if that key is still published. */
  find(kid: string | undefined, nowMs: number): SigningKey | undefined {
    return this.published(nowMs).find((key) => key.kid === kid);
  }

  /**
   * A new signing key; the previous one retires `graceMs` from now (0: at once).
   * @example await ring.rotate(clock.now()) // then the JWKS has two keys for an hour
   */
  async rotate(
    nowMs: number,
    graceMs = this.graceMs,
  ): Promise<{ current: SigningKey; retired: SigningKey[] }> {
    const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const previous = this.current;
    previous.retiresAtMs = nowMs + graceMs;
    this.#keys = [toSigningKey(privateKey, publicKey, this.alg, nowMs), ...this.#keys];
    const stillPublished = this.published(nowMs);
    return { current: this.current, retired: stillPublished.slice(1) };
  }

  /** Back to the key the simulator started with, alone. */
  reset(): void {
    this.#initial.retiresAtMs = null;
    this.#keys = [this.#initial];
  }

  /** What /_sim/state shows: never the private halves. */
  snapshot(nowMs: number) {
    return this.published(nowMs).map((key) => ({
      kid: key.kid,
      alg: key.alg,
      status: key.retiresAtMs === null ? 'signing' : 'retiring',
      createdAt: new Date(key.createdAtMs).toISOString(),
      retiresAt: key.retiresAtMs === null ? null : new Date(key.retiresAtMs).toISOString(),
    }));
  }
}
