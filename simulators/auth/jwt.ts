// Signing and checking the tenant's JWTs. Times come from the simulator clock, so a test expires a
// token by advancing the clock rather than by waiting; checks use the published keys only, so a
// token signed by a key that has left the JWKS fails here as it fails for any other verifier.
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { SimClock } from '../kit/index.ts';
import type { KeyRing } from './keys.ts';

export interface SignedToken {
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export class Jwt {
  readonly #keys: KeyRing;
  readonly #clock: SimClock;
  readonly #issuer: () => string;

  constructor(keys: KeyRing, clock: SimClock, issuer: () => string) {
    this.#keys = keys;
    this.#clock = clock;
    this.#issuer = issuer;
  }

  get issuer(): string {
    return this.#issuer();
  }

  /** Signs `claims` with the current key; `iss`, `iat` and `exp` are set here. */
  async sign(claims: JWTPayload, ttlS: number): Promise<SignedToken> {
    const key = this.#keys.current;
    const nowS = Math.floor(this.#clock.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid })
      .setIssuer(this.issuer)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttlS)
      .sign(key.privateKey);
    return { token, expiresIn: ttlS };
  }

  /**
   * Checks a token this tenant issued for `audience`: signature by a published key, issuer,
   * audience and expiry on the simulator clock. Throws a TokenRejected saying why.
   */
  async verify(token: string, audience: string): Promise<JWTPayload> {
    const now = this.#clock.now();
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = this.#keys.find(header.kid, now);
          if (!key) throw new TokenRejected('invalid', 'Invalid token');
          return key.publicKey;
        },
        { issuer: this.issuer, audience, currentDate: new Date(now), algorithms: [this.#keys.alg] },
      );
      return payload;
    } catch (error) {
      if (error instanceof TokenRejected) throw error;
      if (error instanceof joseErrors.JWTExpired)
        throw new TokenRejected('expired', 'Expired token received for JSON Web Token validation');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
        throw new TokenRejected('audience', `Bad audience: ${audienceOf(token)}`);
      }
      throw new TokenRejected('invalid', 'Invalid token');
    }
  }
}

/** Why a bearer token was refused; `message` is the wording Auth0's Management API uses. */
export class TokenRejected extends Error {
  readonly reason: 'invalid' | 'expired' | 'audience';

  constructor(reason: TokenRejected['reason'], message: string) {
    super(message);
    this.name = 'TokenRejected';
    this.reason = reason;
  }
}

function audienceOf(token: string): string {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as JWTPayload;
    return ([] as string[]).concat(payload.aud ?? []).join(' ');
  } catch {
    return '';
  }
}
