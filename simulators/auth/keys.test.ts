// Key rotation as a verifier sees it, with jose's createRemoteJWKSet over real HTTP: a token
// verifies before a rotation, still verifies while its key is in its grace period, and fails
// once the key has left the JWKS; the Management API refuses it then too.
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from './keys.ts';
import { admin, call, claimsOf, managementToken, passwordGrant, startAuth } from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>> | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const hourMs = 3_600_000;
// a fresh key set each time: the point is what the JWKS publishes now, not what a cache kept
const verifier = (url: string) =>
  createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`), { cooldownDuration: 0 });

async function userToken(url: string): Promise<string> {
  const answer = await passwordGrant(url, {
    username: 'alice@example.com',
    password: 'Passw0rd!',
    scope: 'openid',
  });
  return answer.body.access_token;
}

describe('signing key rotation', () => {
  it('old tokens verify during the grace period and fail once the old key is dropped', async () => {
    sim = await startAuth({ keyGracePeriodMs: hourMs });
    const before = await userToken(sim.url);
    const issuer = `${sim.url}/`;
    await jwtVerify(before, verifier(sim.url), { issuer });

    const rotated = await admin(sim.url).post('keys/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body.keys.map((k: { status: string }) => k.status)).toEqual(['signing', 'retiring']);
    const jwks = (await call(sim.url, '/.well-known/jwks.json')).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(
      rotated.body.keys.map((k: { kid: string }) => k.kid),
    );

    const after = await userToken(sim.url);
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.body.kid);
    await jwtVerify(after, verifier(sim.url), { issuer });
    // still in its grace period
    await jwtVerify(before, verifier(sim.url), { issuer });

    await sim.clock.advance(hourMs);
    expect((await call(sim.url, '/.well-known/jwks.json')).body.keys).toHaveLength(1);
    await expect(jwtVerify(before, verifier(sim.url), { issuer })).rejects.toBeInstanceOf(
      joseErrors.JWKSNoMatchingKey,
    );
    await jwtVerify(after, verifier(sim.url), { issuer, currentDate: sim.clock.date() });
  });

  it('graceMs 0 drops the old key at once; the Management API then refuses its tokens', async () => {
    sim = await startAuth();
    const token = await managementToken(sim.url);
    expect(
      (await call(sim.url, '/api/v2/users', { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    await admin(sim.url).post('keys/rotate', { graceMs: 0 });
    const refused = await call(sim.url, '/api/v2/users', { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid token',
      attributes: { error: 'Invalid token' },
    });
    const fresh = await managementToken(sim.url);
    expect(
      (await call(sim.url, '/api/v2/users', { headers: { authorization: `Bearer ${fresh}` } })).status,
    ).toBe(200);
  });

  it('reset brings back the first key alone; a bad graceMs is a 400', async () => {
    sim = await startAuth();
    const first = (await call(sim.url, '/.well-known/jwks.json')).body.keys[0].kid;
    await admin(sim.url).post('keys/rotate');
    await admin(sim.url).post('keys/rotate');
    expect((await admin(sim.url).get('keys')).body.keys).toHaveLength(3);
    await sim.reset();
    expect(
      (await call(sim.url, '/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid),
    ).toEqual([first]);
    const bad = await admin(sim.url).post('keys/rotate', { graceMs: -5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('PW_SIM_BAD_INPUT');
  });

  it('a graceMs past the clock horizon is a 400 PW_SIM_BAD_TIME, and /_sim/state still answers', async () => {
    sim = await startAuth();
    const bad = await admin(sim.url).post('keys/rotate', { graceMs: 1e20 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'PW_SIM_BAD_TIME',
      message: expect.stringMatching(
        /graceMs must be at most \d+ ms \(100 years\), not 100000000000000000000/,
      ),
    });
    expect((await admin(sim.url).get('state')).status).toBe(200);
    expect((await admin(sim.url).get('keys')).body.keys).toHaveLength(1);
    expect((await admin(sim.url).post('keys/rotate', { graceMs: 99 * 365 * 24 * hourMs })).status).toBe(200);
    expect((await admin(sim.url).get('state')).status).toBe(200);
  });

  it('PS256 is available; the token header and the JWKS say so', async () => {
    sim = await startAuth({ signingAlg: 'PS256' });
    const token = await userToken(sim.url);
    const { payload, protectedHeader } = await jwtVerify(token, verifier(sim.url), { issuer: `${sim.url}/` });
    expect(protectedHeader.alg).toBe('PS256');
    expect(payload.sub).toBe(claimsOf(token).sub);
  });
});

describe('KeyRing', () => {
  it('keeps a retiring key until its time, then drops it; the kid is the RFC 7638 thumbprint', async () => {
    const ring = new KeyRing({ alg: 'RS256', graceMs: 1000, nowMs: 0 });
    const first = ring.current;
    expect(first.kid).toMatch(/^[\w-]{43}$/);
    await ring.rotate(10);
    expect(ring.published(1009).map((k) => k.kid)).toEqual([ring.current.kid, first.kid]);
    expect(ring.find(first.kid, 1009)).toBe(first);
    expect(ring.find(first.kid, 1010)).toBeUndefined();
    expect(ring.published(1010)).toHaveLength(1);
    expect(JSON.stringify(ring.snapshot(1010))).not.toMatch(/"d"|privateKey|PRIVATE/);
  });
});
