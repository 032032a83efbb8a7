// The kit's faults in Auth0's shapes, as the SDKs see them: a throttle is Auth0's 429 with its
// x-ratelimit-* headers (the auth0 SDK waits until x-ratelimit-reset and retries), errors and
// outages read as Management API or token endpoint errors by path, and one seed gives one journal.
import { ManagementClient, ManagementError } from 'auth0';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { decisionsOf, type FaultRuleInput } from '../kit/index.ts';
import { M2M_CLIENT } from './index.ts';
import {
  call,
  managementToken,
  passwordGrant,
  simulatorFetch,
  startAuth,
  TENANT_DOMAIN,
} from './test-support.ts';

let sim: Awaited<ReturnType<typeof startAuth>> | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const managementClient = (url: string, maxRetries?: number) =>
  new ManagementClient({
    domain: TENANT_DOMAIN,
    clientId: M2M_CLIENT.client_id,
    clientSecret: M2M_CLIENT.client_secret!,
    audience: `${url}/api/v2/`,
    fetch: simulatorFetch(url),
    ...(maxRetries !== undefined ? { maxRetries } : {}),
  });

const throttleUsers: FaultRuleInput = {
  id: 'throttle-users',
  match: { method: 'GET', path: '/api/v2/users' },
  fault: { kind: 'throttle', retryAfterS: 1 },
};

describe('faults in Auth0 shapes', () => {
  it('a throttle rule makes the auth0 SDK see the 429 with x-ratelimit-* headers', async () => {
    sim = await startAuth({ faults: [throttleUsers] });
    const error = await managementClient(sim.url, 0)
      .users.list()
      .catch((e: unknown) => e as ManagementError);
    expect(error).toBeInstanceOf(ManagementError);
    const throttled = error as ManagementError;
    expect(throttled.statusCode).toBe(429);
    expect(throttled.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Global limit has been reached',
      errorCode: 'too_many_requests',
    });
    const headers = throttled.rawResponse!.headers;
    expect(headers.get('x-ratelimit-remaining')).toBe('0');
    expect(headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
    const resetS = Number(headers.get('x-ratelimit-reset'));
    expect(resetS * 1000 - Date.now()).toBeGreaterThan(0);
    expect(resetS * 1000 - Date.now()).toBeLessThanOrEqual(2_000);
  });

  it('the SDK waits until x-ratelimit-reset and retries; the journal records the throttle', async () => {
    sim = await startAuth({ faults: [{ ...throttleUsers, count: 1 }] });
    const started = performance.now();
    const page = await managementClient(sim.url).users.list();
    expect(page.data).toHaveLength(1);
    expect(performance.now() - started).toBeGreaterThan(200);
    const entries = sim.journal.entries();
    expect(entries.map((e) => [e.fingerprint.path, e.rule, e.fault?.kind])).toEqual([
      ['/api/v2/users', 'throttle-users', 'throttle'],
    ]);
  });

  it('at the token endpoint a throttle is {error: too_many_requests} and openid-client reads it', async () => {
    sim = await startAuth({
      faults: [
        { match: { path: '/oauth/token', tenant: M2M_CLIENT.client_id }, fault: { kind: 'throttle' } },
      ],
    });
    const config = await oidc.discovery(
      new URL(sim.url),
      M2M_CLIENT.client_id,
      M2M_CLIENT.client_secret,
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const error = await oidc
      .clientCredentialsGrant(config, { audience: `${sim.url}/api/v2/` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oidc.ResponseBodyError);
    expect(error).toMatchObject({
      status: 429,
      error: 'too_many_requests',
      error_description: 'Global limit has been reached',
    });
    // the rule matches that client (the tenant) only: a user's sign-in goes through
    expect(
      (await passwordGrant(sim.url, { username: 'alice@example.com', password: 'Passw0rd!' })).status,
    ).toBe(200);
  });

  it('errors and outages answer in the shape of the API they hit', async () => {
    sim = await startAuth({
      faults: [
        { match: { path: '/api/v2/**' }, fault: { kind: 'error', status: 500 } },
        { match: { path: '/oauth/token' }, fault: { kind: 'outage', forMs: 60_000 } },
      ],
    });
    const outage = await passwordGrant(sim.url, { username: 'alice@example.com', password: 'Passw0rd!' });
    expect(outage.status).toBe(503);
    expect(outage.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The service is unavailable. Please try again later.',
    });
    expect(Number(outage.headers.get('retry-after'))).toBeGreaterThan(0);
    await sim.clock.advance(60_000);
    const token = await managementToken(sim.url);
    const failed = await call(sim.url, '/api/v2/users', { headers: { authorization: `Bearer ${token}` } });
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ statusCode: 500, error: 'Internal Server Error' });
  });

  it('the same seed and the same requests give the same journal', async () => {
    const flaky: FaultRuleInput = {
      match: { path: '/oauth/token' },
      fault: { kind: 'error', status: 503 },
      probability: 0.5,
    };
    const run = async () => {
      await using auth = await startAuth({ seed: 42, faults: [flaky] });
      for (let i = 0; i < 20; i++) {
        await passwordGrant(auth.url, { username: 'alice@example.com', password: 'Passw0rd!' });
      }
      return decisionsOf(auth.journal.entries());
    };
    const first = await run();
    expect(first).toHaveLength(20);
    expect(new Set(first.map((d) => d.rule === null))).toEqual(new Set([true, false]));
    expect(await run()).toEqual(first);
  });
});
