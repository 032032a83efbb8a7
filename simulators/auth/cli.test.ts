// `planewright sim auth` as a user runs it: the real bin/planewright.mjs in a child process.
import { afterEach, describe, expect, it } from 'vitest';
import { killSimClis, startSimCli } from '../kit/cli-testing.ts';
import { managementToken, passwordGrant } from './test-support.ts';

afterEach(killSimClis);

describe('planewright sim auth', () => {
  it('prints its URL first, issues tokens and serves the Management API, then stops on SIGTERM', async () => {
    const sim = startSimCli(['auth', '--port', '0', '--seed', '7']);
    const url = await sim.firstLine();
    expect(url, sim.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'auth', seed: 7 });
    const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(`${url}/`);
    expect((await passwordGrant(url, { username: 'alice@example.com', password: 'Passw0rd!' })).status).toBe(
      200,
    );
    const token = await managementToken(url);
    expect(
      (await fetch(`${url}/api/v2/users`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
  });
});
