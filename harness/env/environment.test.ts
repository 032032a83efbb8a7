// The environment builder as a test uses it: every component started and wired by configuration,
// a user of the auth simulator calling the control plane, a fleet agent applying that user's
// resource, and everything gone after stop().
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { preloadPath } from '../intercept/index.ts';
import { startEnvironment } from './environment.ts';
import { startPostgres } from './postgres.ts';

describe('startEnvironment', () => {
  it('starts Postgres, the four simulators, the control plane and a fleet, wired by URL and keys', async () => {
    const { adminUrl, templateDatabase } = inject('postgres');
    const server = await startPostgres({ databaseUrl: adminUrl });
    const env = await startEnvironment({
      seed: 42,
      postgres: { server, template: templateDatabase },
      fleet: { agentsPerCell: 1, agent: { waitMs: 2_000 } },
    });
    try {
      expect(Object.keys(env.timings)).toEqual(
        expect.arrayContaining([
          'postgres',
          'stripe',
          'salesforce',
          'auth',
          'notify',
          'control-plane',
          'fleet',
        ]),
      );
      const user = await env.newUser('alice');
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${env.controlPlane!.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
      // the auth simulator's token is accepted, with the email an Auth0 Action would add
      const me = await call('GET', '/v1/users/me');
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(user.email);
      const org = await call('POST', '/v1/orgs', { name: 'Env Test', slug: `env-${Date.now()}` });
      expect(org.status).toBe(201);
      const created = await call('POST', `/v1/orgs/${org.body.id}/resources`, {
        kind: 'database',
        name: 'env-db',
        spec: { engine: 'postgres', version: '16', storageGb: 10 },
        cell: 'cell-2',
      });
      expect(created.status).toBe(202);
      const id = created.body.resource.id as string;
      const cell2 = env.fleet!.agents.find((agent) => agent.identity?.cell === 'cell-2')!;
      for (let i = 0; i < 200 && !cell2.get(id); i++) await sleep(25);
      expect(cell2.get(id)?.generation).toBe(1);
      // the control plane exports its spans to the environment's collector: the provisioning flow's
      // steps are there, in the trace of the request that created the resource
      const steps = await env.traces!.store.waitFor(
        {
          where: { flow: 'provision-resource' },
          names: ['place', 'publish', 'await-ready', 'ready'].map((step) => new RegExp(step)),
        },
        { timeoutMs: 15_000 },
      );
      expect(new Set(steps.map((span) => span.traceId)).size).toBe(1);
      // and so do the simulators of this process: the auth simulator's token request of newUser()
      await env.traces!.store.waitFor(
        { where: { service: 'planewright-simulators' } },
        { timeoutMs: 15_000 },
      );
      // its vendors' SDKs, at the vendors' real hosts, reach the simulators through interception
      const vendors = await fetch(`${env.controlPlane!.url}/v1/admin/vendors`, {
        headers: { authorization: `Bearer ${env.adminToken}` },
      }).then(
        (response) =>
          response.json() as Promise<Record<string, { reachable: boolean | null; error: string | null }>>,
      );
      expect(vendors).toMatchObject({
        stripe: { reachable: true },
        salesforce: { reachable: true },
        auth: { reachable: true },
        email: { configured: true },
        sms: { configured: true },
      });
      // one trace: the control plane's request and the Stripe simulator's handling of its SDK call
      // (SDKs on node:http carry traceparent; fetch-based ones, auth0 and jsforce, do not yet)
      const [check] = await env.traces!.store.waitFor(
        { where: { name: 'GET /v1/admin/vendors', kind: 'server' } },
        { timeoutMs: 15_000 },
      );
      await env.traces!.store.waitFor(
        {
          traceId: check!.traceId,
          where: { service: 'planewright-simulators' },
          names: ['GET /v1/customers'],
        },
        { timeoutMs: 15_000 },
      );
      // the control plane runs with the vendor-host interception preload, aimed at these simulators
      const cmdline = readFileSync(`/proc/${env.controlPlane!.pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toContain(preloadPath);
      const environ = readFileSync(`/proc/${env.controlPlane!.pid}/environ`, 'utf8').split('\0');
      const intercept = environ.find((line) => line.startsWith('PLANEWRIGHT_INTERCEPT='))!;
      expect(JSON.parse(intercept.slice('PLANEWRIGHT_INTERCEPT='.length))).toMatchObject({
        stripe: env.stripe!.url,
        salesforce: env.salesforce!.url,
        auth: env.auth!.url,
        notify: env.notify!.url,
      });
      // the agents reach the control plane through the fault proxy: cutting it cuts them off
      expect(env.agentUrl).not.toBe(env.controlPlane!.url);
      const toggle = (enabled: boolean) =>
        fetch(`${env.faultProxy!.url}/proxies/control-plane`, {
          method: 'POST',
          body: JSON.stringify({ enabled }),
        }).then((response) => expect(response.status).toBe(200));
      await toggle(false);
      await env.fleet!.waitFor((counters) => counters.backingOff > 0, 15_000);
      await toggle(true);
      await env.fleet!.waitFor((counters) => counters.inSync === counters.agents, 15_000);
      expect(env.describe()).toMatchObject({
        seed: 42,
        controlPlane: { url: env.controlPlane!.url },
        simulators: { stripe: { url: env.stripe!.url }, auth: { url: env.auth!.url } },
      });
    } finally {
      await env.stop();
    }
    // stopped: nothing answers any more
    await expect(fetch(`${env.controlPlane!.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${env.stripe!.url}/_sim/health`)).rejects.toThrow();
  });

  it('names the component that did not start and stops the others', async () => {
    const { adminUrl, templateDatabase } = inject('postgres');
    const server = await startPostgres({ databaseUrl: adminUrl });
    const error = await startEnvironment({
      postgres: { server, template: templateDatabase },
      simulators: ['stripe'],
      controlPlane: { env: { CELLS: 'not a cell list!' } },
    }).catch((failure: Error) => failure);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/control.plane/i);
    expect((error as Error).message).toMatch(/CELLS/);
  });
});
