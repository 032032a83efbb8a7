// The preload in a real child process, as the environment builder will start a control plane:
// the official SDKs with their default hosts (api.stripe.com, api.sendgrid.com, api.twilio.com,
// over https) reach the simulators, while a local HTTP server and SMTP pass through untouched.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthState, createAuthSimulator, DEFAULT_API, M2M_CLIENT } from '../../simulators/auth/index.ts';
import type { StartedSimulator } from '../../simulators/kit/index.ts';
import {
  createNotifySimulator,
  defaultTwilioAccount,
  type StartedNotifySimulator,
} from '../../simulators/notify/index.ts';
import {
  createSalesforceSimulator,
  defaultSalesforceConfig,
  type SalesforceState,
} from '../../simulators/salesforce/index.ts';
import { createStripeSimulator, type StripeSimulatorState } from '../../simulators/stripe/index.ts';
import type { ClientStep } from './client-testing.ts';
import {
  type InterceptArgsOptions,
  type InterceptStats,
  type InterceptTargets,
  interceptArgs,
} from './index.ts';

const clientEntry = fileURLToPath(new URL('./client-testing.ts', import.meta.url));

interface ClientRun {
  code: number | null;
  results: unknown[];
  stats: InterceptStats;
  stderr: string;
}

/** Runs client-testing.ts with the preload; resolves with its results once it exits (at most 20 s). */
async function runClient(
  steps: ClientStep[],
  targets: InterceptTargets,
  options: InterceptArgsOptions = {},
  extraEnv: Record<string, string> = {},
): Promise<ClientRun> {
  const { execArgv, env } = interceptArgs(targets, options);
  const child = spawn(process.execPath, [...execArgv, clientEntry, JSON.stringify(steps)], {
    env: { ...process.env, ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  const last = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !last) return { code, results: [], stats: undefined as never, stderr };
  return { code, ...JSON.parse(last), stderr };
}

/** A local HTTP server on 127.0.0.1 that records the requests it gets. */
async function startLocalServer() {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    res.end(`local ${req.url}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, seen, server };
}

let stripeSim: StartedSimulator<StripeSimulatorState>;
let notifySim: StartedNotifySimulator;
let salesforceSim: StartedSimulator<SalesforceState>;
let authSim: StartedSimulator<AuthState>;
let local: Awaited<ReturnType<typeof startLocalServer>>;

beforeAll(async () => {
  [stripeSim, notifySim, salesforceSim, authSim, local] = await Promise.all([
    createStripeSimulator({ seed: 1, logLevel: 'silent' }).start(),
    createNotifySimulator({ seed: 1, latency: { email: { ms: 5 }, sms: { ms: 5 } } }).start(),
    createSalesforceSimulator({ seed: 1, logLevel: 'silent' }).start(),
    createAuthSimulator({ seed: 1, logLevel: 'silent' }).start(),
    startLocalServer(),
  ]);
});
afterAll(async () => {
  local?.server.closeAllConnections();
  local?.server.close();
  await Promise.all([stripeSim?.stop(), notifySim?.stop(), salesforceSim?.stop(), authSim?.stop()]);
});

async function mailbox(query: Record<string, string>) {
  const response = await fetch(
    `${notifySim.url}/_sim/messages?${new URLSearchParams({ wait: '5s', ...query })}`,
  );
  return ((await response.json()) as { messages: { via: string; to: string; subject?: string }[] }).messages;
}

describe('the preload in a child process', () => {
  it('new Stripe(key) with its default host creates the customer in the simulator, over https', async () => {
    const run = await runClient([{ kind: 'stripe', email: 'ada@example.com' }], { stripe: stripeSim.url });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const [{ id }] = run.results as [{ id: string }];
    const direct = new Stripe('sk_test_planewright_intercept', {
      host: '127.0.0.1',
      port: stripeSim.port,
      protocol: 'http',
    });
    expect((await direct.customers.retrieve(id)) as Stripe.Customer).toMatchObject({
      email: 'ada@example.com',
    });
    expect(run.stats).toEqual({
      intercepted: 1,
      failed: 0,
      bySimulator: { stripe: 1 },
      byHost: { 'api.stripe.com': 1 },
    });
  });

  it('@sendgrid/mail and twilio with their defaults reach the notify simulator; SMTP passes through', async () => {
    const run = await runClient(
      [
        { kind: 'sendgrid', to: 'ann@example.test' },
        { kind: 'twilio', to: '+15551230001', ...defaultTwilioAccount },
        { kind: 'smtp', host: notifySim.smtpHost, port: notifySim.smtpPort, to: 'smtp@example.test' },
      ],
      { notify: notifySim.url },
    );
    expect(run.code).toBe(0);
    const [sendgrid, sms, smtp] = run.results as [
      { status: number; messageId: string },
      { sid: string },
      object,
    ];
    expect(sendgrid.status).toBe(202);
    expect(await mailbox({ to: 'ann@example.test' })).toMatchObject([
      { id: `${sendgrid.messageId}.sim0`, via: 'sendgrid', subject: 'Intercepted' },
    ]);
    expect(await mailbox({ to: '+15551230001', channel: 'sms' })).toMatchObject([
      { id: sms.sid, via: 'twilio' },
    ]);
    // a protocol where the server speaks first is not held up waiting for an HTTP request
    expect(smtp).toEqual({ accepted: ['smtp@example.test'] });
    expect(await mailbox({ to: 'smtp@example.test' })).toMatchObject([{ via: 'smtp', subject: 'Over SMTP' }]);
    expect(run.stats).toEqual({
      intercepted: 2,
      failed: 0,
      bySimulator: { notify: 2 },
      byHost: { 'api.sendgrid.com': 1, 'api.twilio.com': 1 },
    });
  });

  it('jsforce logs in at login.salesforce.com; the auth0 SDK gets a token from the tenant and a custom domain', async () => {
    const admin = defaultSalesforceConfig.users[0]!;
    const m2m = {
      clientId: M2M_CLIENT.client_id,
      clientSecret: M2M_CLIENT.client_secret!,
      audience: DEFAULT_API.identifier,
    };
    const run = await runClient(
      [
        {
          kind: 'salesforce',
          username: admin.username,
          password: admin.password,
          clientId: 'planewright-client',
          clientSecret: 'planewright-secret',
        },
        { kind: 'auth0', domain: 'planewright.eu.auth0.com', ...m2m },
        { kind: 'auth0', domain: 'login.planewright.test', ...m2m },
      ],
      { salesforce: salesforceSim.url, auth: authSim.url, hosts: { 'login.planewright.test': 'auth' } },
    );
    expect(run.stderr.slice(-2000)).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    const [salesforce, tenant, custom] = run.results as [
      { instanceUrl: string; taskId: string },
      object,
      object,
    ];
    // the simulator names itself as the instance: later calls go to it directly
    expect(salesforce).toEqual({ instanceUrl: salesforceSim.url, taskId: expect.stringMatching(/^00T/) });
    const token = { iss: `${authSim.url}/`, aud: DEFAULT_API.identifier, gty: 'client-credentials' };
    expect(tenant).toMatchObject(token);
    expect(custom).toMatchObject(token);
    expect(run.stats.byHost).toEqual({
      'login.salesforce.com': 1,
      'planewright.eu.auth0.com': 1,
      'login.planewright.test': 1,
    });
  });

  it('a local server by the name localhost gets fetch and node:http requests untouched', async () => {
    const url = `http://localhost:${local.port}/hello?x=1`;
    const run = await runClient([{ kind: 'get', url }], { stripe: stripeSim.url, notify: notifySim.url });
    expect(run.code).toBe(0);
    expect(run.results).toEqual([{ fetch: 'local /hello?x=1', http: 'local /hello?x=1' }]);
    expect(local.seen.map((seen) => [seen.url, seen.headers.host])).toEqual([
      ['/hello?x=1', `localhost:${local.port}`],
      ['/hello?x=1', `localhost:${local.port}`],
    ]);
    expect(run.stats.intercepted).toBe(0);
  });

  it('logs each interception at debug level without secrets, and the counters at exit', async () => {
    const run = await runClient(
      [{ kind: 'sendgrid', to: 'log@example.test' }],
      { notify: notifySim.url },
      { logLevel: 'debug', stats: true },
    );
    expect(run.code).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 20,
        msg: 'intercepted',
        method: 'POST',
        host: 'api.sendgrid.com',
        path: '/v3/mail/send',
        to: notifySim.url,
        status: 202,
      }),
    );
    expect(lines.at(-1)).toEqual({
      planewrightIntercept: {
        intercepted: 1,
        failed: 0,
        bySimulator: { notify: 1 },
        byHost: { 'api.sendgrid.com': 1 },
      },
    });
    expect(run.stderr).not.toMatch(/SG\.planewright|log@example\.test|Intercepted/);
  });

  it('a bad PLANEWRIGHT_INTERCEPT stops the process before the application runs', async () => {
    const run = await runClient(
      [{ kind: 'stripe', email: 'never@example.com' }],
      {},
      {},
      {
        PLANEWRIGHT_INTERCEPT: '{"stripe":"127.0.0.1:1"}',
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^PW_INTERCEPT_BAD_CONFIG: PLANEWRIGHT_INTERCEPT\.stripe: an http\(s\) URL/);
  });
});
