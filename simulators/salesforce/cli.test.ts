// `planewright sim salesforce` as a user runs it: the real bin/planewright.mjs in a child process,
// then jsforce logging in to the URL it printed.
import { afterEach, describe, expect, it } from 'vitest';
import { killSimClis, startSimCli } from '../kit/cli-testing.ts';
import { admin, loggedIn } from './testing.ts';

afterEach(killSimClis);

describe('planewright sim salesforce', () => {
  it('prints its URL first; jsforce logs in with the documented user and works; SIGTERM stops it', async () => {
    const sim = startSimCli(['salesforce', '--port', '0', '--seed', '5']);
    const url = await sim.firstLine();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const conn = await loggedIn(url);
    expect((await conn.identity()).username).toBe(admin.username);
    const { id } = await conn.sobject('Task').create({ Subject: 'from the CLI' });
    expect((await conn.sobject('Task').retrieve(id!)).Subject).toBe('from the CLI');
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'salesforce', seed: 5 });
    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    expect(sim.stderr()).toMatch(/the salesforce simulator is up at/);
  });
});
