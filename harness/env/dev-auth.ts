// A development stand-in for the auth provider until the auth simulator exists: a JWKS served
// over HTTP and tokens signed with its key, so the control plane verifies them as it would a
// real provider's. The key lives only as long as the process, and so do its tokens.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const devAudience = 'planewright';
const keyId = 'planewright-dev';

export interface DevAuth {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /**
   * Signs a user token. `expiresIn`: a jose time span ('30d') or an absolute epoch second;
   * `issuedAt`: epoch seconds (default now).
   */
  sign(
    claims: { sub: string; email?: string; name?: string },
    options?: { expiresIn?: string | number; issuedAt?: number },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startDevAuth(): Promise<DevAuth> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid: keyId, alg: 'ES256', use: 'sig' }],
  });
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(jwks);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const issuer = `${base}/`;
  return {
    jwksUrl: `${base}/.well-known/jwks.json`,
    issuer,
    audience: devAudience,
    sign: (claims, { expiresIn = '30d', issuedAt } = {}) =>
      new SignJWT({ email: claims.email, name: claims.name })
        .setProtectedHeader({ alg: 'ES256', kid: keyId })
        .setSubject(claims.sub)
        .setIssuer(issuer)
        .setAudience(devAudience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresIn)
        .sign(privateKey),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
