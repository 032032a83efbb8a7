// The simulator's state as GET /_sim/state shows it, POST /_sim/reset, and option checking.
import { describe, expect, it } from 'vitest';
import { createAuthSimulator } from './index.ts';
import { admin, call, managementToken, passwordGrant, startAuth } from './test-support.ts';

describe('state', () => {
  it('shows users, clients, tokens and keys, never passwords, secrets, token values or private keys', async () => {
    await using sim = await startAuth();
    const { body } = await passwordGrant(sim.url, {
      username: 'alice@example.com',
      password: 'Passw0rd!',
      scope: 'openid offline_access',
    });
    const state = (await admin(sim.url).get('state')).body;
    expect(state.users.map((u: { email: string }) => u.email)).toEqual(['alice@example.com']);
    expect(state.clients.map((c: { client_id: string }) => c.client_id)).toEqual([
      'pw_sim_app',
      'pw_sim_spa',
      'pw_sim_m2m',
    ]);
    expect(state.refreshTokens).toHaveLength(1);
    expect(state.keys).toEqual([expect.objectContaining({ alg: 'RS256', status: 'signing' })]);
    const text = JSON.stringify(state);
    for (const secret of ['Passw0rd!', 'pw_sim_app_secret', 'pw_sim_m2m_secret', body.refresh_token]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/"password":|"client_secret":|"privateKey":|"d":/);
  });

  it('reset brings back the seeded users and ids, and forgets everything since', async () => {
    await using sim = await startAuth({ users: [{ email: 'erin@example.com', password: 'Passw0rd!' }] });
    const before = (await admin(sim.url).get('state')).body.users[0].user_id;
    expect(before).toBe('auth0|000000000000000000000001');
    const token = await managementToken(sim.url);
    const headers = { authorization: `Bearer ${token}` };
    const created = await call(sim.url, '/api/v2/users', {
      method: 'POST',
      headers,
      json: {
        connection: 'Username-Password-Authentication',
        email: 'frank@example.com',
        password: 'Passw0rd!',
      },
    });
    expect(created.body.user_id).toBe('auth0|000000000000000000000002');
    await call(sim.url, `/api/v2/users/${before}`, { method: 'PATCH', headers, json: { blocked: true } });
    expect((await admin(sim.url).post('reset')).status).toBe(200);
    const after = (await admin(sim.url).get('state')).body;
    expect(after.users.map((u: { user_id: string; blocked: boolean }) => [u.user_id, u.blocked])).toEqual([
      [before, false],
    ]);
    expect(after.refreshTokens).toEqual([]);
    // an id handed out before the reset is not handed out again
    const again = await call(sim.url, '/api/v2/users', {
      method: 'POST',
      headers: { authorization: `Bearer ${await managementToken(sim.url)}` },
      json: {
        connection: 'Username-Password-Authentication',
        email: 'gina@example.com',
        password: 'Passw0rd!',
      },
    });
    expect(again.body.user_id).toBe('auth0|000000000000000000000003');
  });

  it('checks options once, naming the one that is wrong', () => {
    expect(() => createAuthSimulator({ users: [{ email: 'not-an-email', password: 'x' }] })).toThrow(
      /PW_SIM_BAD_CONFIG: .*users\.0\.email/,
    );
    expect(() =>
      createAuthSimulator({ users: [{ email: 'a@example.com', password: 'x', claims: { sub: 'me' } }] }),
    ).toThrow(/users\.0\.claims: may not set iss, sub/);
    expect(() => createAuthSimulator({ clients: [{ client_id: 'same' }, { client_id: 'same' }] })).toThrow(
      /PW_SIM_BAD_CONFIG: the auth simulator's options repeat client_id same/,
    );
    expect(() => createAuthSimulator({ signingAlg: 'HS256' as 'RS256' })).toThrow(/signingAlg/);
    // lifetimes reach the simulator clock: at most its horizon, 100 years
    expect(() => createAuthSimulator({ accessTokenTtlS: 9e12 })).toThrow(
      /PW_SIM_BAD_CONFIG: .*accessTokenTtlS/,
    );
    expect(() => createAuthSimulator({ keyGracePeriodMs: 9e15 })).toThrow(/keyGracePeriodMs/);
    expect(() =>
      createAuthSimulator({ refreshTokens: { rotation: true, absoluteLifetimeS: 9e12, idleLifetimeS: 60 } }),
    ).toThrow(/refreshTokens\.absoluteLifetimeS/);
  });
});
