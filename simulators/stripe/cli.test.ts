// `planewright sim stripe` as a user runs it: the real bin/planewright.mjs in a child process,
// with the official SDK talking to what it started.
import { afterEach, describe, expect, it } from 'vitest';
import { killSimClis, startSimCli } from '../kit/cli-testing.ts';
import { sdkFor } from './sdk-testing.ts';

afterEach(killSimClis);

describe('planewright sim stripe', () => {
  it('prints its URL first, serves the SDK, and stops on SIGINT', async () => {
    const sim = startSimCli(['stripe', '--port', '0', '--seed', '9']);
    const url = await sim.firstLine();
    expect(url, sim.stderr()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const stripe = sdkFor({ port: Number(new URL(url).port) });
    const customer = await stripe.customers.create({ email: 'cli@example.com' });
    expect(customer.id).toMatch(/^cus_/);
    const health = await (await fetch(`${url}/_sim/health`)).json();
    expect(health).toMatchObject({ ok: true, simulator: 'stripe', seed: 9 });
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
  });
});
