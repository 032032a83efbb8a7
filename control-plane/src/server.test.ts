// server.ts as a real child process: start-up, configuration errors, graceful shutdown and
// trace export, each observed from outside as an operator or a supervisor would.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  startTestAuth,
  type TestAuth,
  testAdminToken,
  testEnv,
} from '../test/support.ts';

const serverPath = fileURLToPath(new URL('./server.ts', import.meta.url));

interface ServerProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the URL the server printed; rejects if it exits first. */
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(env: Record<string, string>): ServerProcess {
  // only the given variables: a developer's own OTEL_* or PORT must not leak into the test
  const child = spawn(process.execPath, [serverPath], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((each) => /^https?:\/\/\S+$/.test(each));
      if (line) resolve(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then(({ code }) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  url.catch(() => {});
  return { child, output: () => output, url, exited };
}

/** Serves the test JWKS only after `delayMs`, so a request that verifies a token is slow on demand. */
async function startSlowJwks(upstream: string, delayMs: number) {
  let fetched: () => void = () => {};
  const firstFetch = new Promise<void>((resolve) => {
    fetched = resolve;
  });
  const server = createServer(async (_req, res) => {
    fetched();
    const body = await (await fetch(upstream)).text();
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    }, delayMs);
  });
  return { url: `${await listen(server)}/jwks`, firstFetch, close: () => close(server) };
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let auth: TestAuth;
const children: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  auth = await startTestAuth();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await auth?.close();
  await database?.drop();
});

function start(overrides: Record<string, string> = {}): ServerProcess {
  const server = startServer(testEnv(database.url, auth, overrides));
  children.push(server.child);
  return server;
}

describe('server.ts', () => {
  it('listens on a free port, answers /readyz and /healthz, and exits 0 on SIGTERM', async () => {
    const server = start({ LOG_LEVEL: 'info' });
    const url = await server.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const listening = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .find((entry) => entry.msg === 'listening');
    expect(listening).toMatchObject({ url, tracing: false });

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 2 on a bad configuration and names every bad variable', async () => {
    const server = startServer({
      PORT: 'eighty',
      AUTH_JWKS_URL: 'not a url',
      SECRETS_KEK: 'c2hvcnQ=',
      LOG_LEVEL: 'loud',
    });
    children.push(server.child);
    const { code } = await server.exited;
    expect(code).toBe(2);
    const output = server.output();
    expect(output).toContain('PW_CONFIG_INVALID');
    for (const name of ['PORT', 'DATABASE_URL', 'AUTH_JWKS_URL', 'SECRETS_KEK', 'LOG_LEVEL']) {
      expect(output).toMatch(new RegExp(`^  - ${name}: `, 'm'));
    }
    expect(output).toMatch(/DATABASE_URL: is required/);
    expect(output).toMatch(/SECRETS_KEK: must be 32 bytes/);
  });

  it('exits 1 with a code and the next step when the port is taken', async () => {
    const blocker = createServer();
    const taken = new URL(await listen(blocker)).port;
    try {
      const server = start({ PORT: taken });
      const { code } = await server.exited;
      expect(code).toBe(1);
      expect(server.output()).toMatch(/PW_PORT_IN_USE: port \d+ .* set PORT=0/);
    } finally {
      await close(blocker);
    }
  });

  it('exits 1 naming the database when DATABASE_URL cannot be reached', async () => {
    const url = new URL(database.url);
    url.pathname = '/no_such_database';
    const server = start({ DATABASE_URL: url.toString() });
    expect((await server.exited).code).toBe(1);
    expect(server.output()).toMatch(/PW_DATABASE_UNREACHABLE: .*"no_such_database" does not exist/);
  });

  it('on SIGTERM lets a slow in-flight request finish, then exits 0', async () => {
    const jwks = await startSlowJwks(auth.jwksUrl, 1_000);
    try {
      const server = start({ AUTH_JWKS_URL: jwks.url });
      const url = await server.url;
      const token = await auth.token({ sub: 'auth0|slow', email: 'slow@example.test' });
      // the first token verification fetches the JWKS, which answers only after a second
      const response = fetch(`${url}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } });
      await jwks.firstFetch;
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      const answered = await response;
      const answeredAt = performance.now();
      expect(answered.status).toBe(200);
      expect(await answered.json()).toEqual({ data: [] });
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(answeredAt - signalledAt).toBeGreaterThan(800);
      // the keep-alive connection is closed after the response, not left to the client's idle timeout
      expect(performance.now() - answeredAt).toBeLessThan(1_000);
      // no new connection is taken once shutdown has finished
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      await jwks.close();
    }
  });

  it('on SIGTERM lets a running flow step finish and record its effect once, then exits 0', async () => {
    const server = start();
    const url = await server.url;
    const started = await fetch(`${url}/v1/admin/diagnostics/flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1, stepDelayMs: 800 }),
    });
    expect(started.status).toBe(202);
    const [flowId] = ((await started.json()) as { flowIds: string[] }).flowIds;
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const steps = () =>
        db.query<{ step: string; outcome: string | null; ended_at: Date | null }>(
          'SELECT step, outcome, ended_at FROM flow_steps WHERE flow_id = $1 ORDER BY id',
          [flowId],
        );
      for (let i = 0; i < 200 && (await steps()).rows.length === 0; i++) await sleep(10);
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      const history = (await steps()).rows;
      // the step under way when the signal came ran to its end; no later step was started
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ step: 'effect-1', outcome: 'succeeded' });
      const effects = await db.query('SELECT step FROM diagnostic_effects WHERE flow_id = $1', [flowId]);
      expect(effects.rows).toEqual([{ step: 'effect-1' }]);
    } finally {
      await db.end();
    }
  });

  it('stops within SHUTDOWN_TIMEOUT_MS even when a request would take longer', async () => {
    const jwks = await startSlowJwks(auth.jwksUrl, 4_000);
    try {
      const server = start({ AUTH_JWKS_URL: jwks.url, SHUTDOWN_TIMEOUT_MS: '300' });
      const url = await server.url;
      const token = await auth.token({ sub: 'auth0|slower' });
      const outcome = fetch(`${url}/v1/orgs`, { headers: { authorization: `Bearer ${token}` } }).then(
        (response) => response.status,
        (error: Error) => error,
      );
      await jwks.firstFetch;
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(performance.now() - signalledAt).toBeLessThan(2_500);
      // the connection was cut at the deadline: the client sees an error, not a hang
      expect(await outcome).toBeInstanceOf(Error);
    } finally {
      await jwks.close();
    }
  });
});

describe('tracing (telemetry/sdk.ts)', () => {
  /** An OTLP/HTTP receiver that keeps every span it is sent (JSON bodies). */
  async function startReceiver() {
    const spans: {
      traceId: string;
      name: string;
      kind: number;
      scope: string;
      service: string;
      attributes?: { key: string; value: Record<string, unknown> }[];
    }[] = [];
    const server = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
          const service = resourceSpans.resource?.attributes?.find(
            (a: { key: string }) => a.key === 'service.name',
          )?.value?.stringValue;
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) {
              spans.push({ ...span, scope: scopeSpans.scope?.name, service });
            }
          }
        }
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    return { url: await listen(server), spans, close: () => close(server) };
  }

  it('exports http, express and pg spans that continue the caller’s traceparent, flushed on shutdown', async () => {
    const receiver = await startReceiver();
    try {
      const server = start({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'cp-under-test',
      });
      const url = await server.url;
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const token = await auth.token({ sub: 'auth0|traced', email: 'traced@example.test' });
      const response = await fetch(`${url}/v1/orgs`, {
        headers: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      expect(response.status).toBe(200);
      // probes are not traced
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);

      const ours = receiver.spans.filter((span) => span.traceId === traceId);
      expect(ours.find((span) => span.scope === '@opentelemetry/instrumentation-http')).toMatchObject({
        kind: 2, // SERVER
        service: 'cp-under-test',
      });
      expect(ours.some((span) => span.scope === '@opentelemetry/instrumentation-express')).toBe(true);
      expect(ours.some((span) => span.scope === '@opentelemetry/instrumentation-pg')).toBe(true);
      expect(receiver.spans.filter((span) => span.traceId !== traceId && span.kind === 2)).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('puts every step of a flow in the trace of the request that started it', async () => {
    const receiver = await startReceiver();
    try {
      const server = start({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
      const url = await server.url;
      const token = await auth.token({ sub: 'auth0|flow-traced', email: 'flow@example.test' });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const org = (await (
        await fetch(`${url}/v1/orgs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ name: 'T', slug: 'traced' }),
        })
      ).json()) as { id: string };
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      // creating a key runs the create-api-key flow before it answers
      const created = await fetch(`${url}/v1/orgs/${org.id}/api-keys`, {
        method: 'POST',
        headers: { ...headers, traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        body: JSON.stringify({ name: 'traced', role: 'member' }),
      });
      expect(created.status).toBe(201);
      const { flowId } = (await created.json()) as { flowId: string };
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);

      const steps = receiver.spans.filter((span) => span.name.startsWith('flow create-api-key '));
      expect(steps.map((span) => span.name).sort()).toEqual([
        'flow create-api-key activate',
        'flow create-api-key audit',
        'flow create-api-key check-quota',
      ]);
      for (const span of steps) {
        expect(span.traceId).toBe(traceId);
        const attributes = Object.fromEntries(
          (span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
        );
        expect(attributes).toMatchObject({
          'flow.id': flowId,
          'flow.type': 'create-api-key',
          'flow.attempt': 1,
        });
        expect(attributes['flow.step']).toBe(span.name.split(' ').at(-1));
      }
    } finally {
      await receiver.close();
    }
  });
});
