// Interception inside this process: global fetch and node:https to the vendors' hosts reach the
// simulator (no certificates: msw answers before TLS), everything about the request is kept, and
// the simulator's answer comes back as sent, streamed, with redirects left to the client.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedSimulator } from '../../simulators/kit/index.ts';
import { createStripeSimulator, type StripeSimulatorState } from '../../simulators/stripe/index.ts';
import { type Interception, installInterception, interceptStats, resolveInterceptConfig } from './index.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local server that records what it gets and answers per path, standing in for a simulator. */
async function startEcho() {
  const seen: Seen[] = [];
  let releaseStream: () => void = () => {};
  const streamReleased = new Promise<void>((resolve) => {
    releaseStream = resolve;
  });
  const answer = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path.endsWith('/hang')) return; // never answers
    if (path.endsWith('/redirect')) return res.writeHead(302, { location: '/v1/final' }).end();
    if (path.endsWith('/gzip')) {
      return res
        .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' })
        .end(gzipSync('unzipped'));
    }
    if (path.endsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one\n');
      // the second part only once the client has read the first: a buffering proxy would hang here
      await streamReleased;
      return res.end('two\n');
    }
    res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
    res.writeHead(201, 'Made It', { 'x-echo': 'yes', 'content-type': 'application/json' });
    res.end(JSON.stringify({ body }));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      void answer(req, res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    releaseStream: () => releaseStream(),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A port where nothing listens. */
async function closedPort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** GET over node:https, the response as node gives it. */
function httpsGet(url: string, onData?: (chunk: string) => void) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    httpsRequest(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        onData?.(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

const key = 'sk_test_planewright_in_process';
let stripeSim: StartedSimulator<StripeSimulatorState>;
let echo: Awaited<ReturnType<typeof startEcho>>;
let interception: Interception;

beforeAll(async () => {
  stripeSim = await createStripeSimulator({ seed: 1, logLevel: 'silent' }).start();
  echo = await startEcho();
  interception = installInterception(
    resolveInterceptConfig({
      stripe: stripeSim.url,
      hosts: {
        'api.vendor.test': echo.url,
        'prefixed.vendor.test': `${echo.url}/base/`,
        'down.vendor.test': `http://127.0.0.1:${await closedPort()}`,
      },
      maxBodyBytes: 64 * 1024,
      responseTimeoutMs: 1_000,
    }),
  );
});
afterAll(async () => {
  interception?.close();
  echo?.close();
  await stripeSim?.stop();
});

describe('in-process interception', () => {
  it("fetch('https://api.stripe.com/v1/customers') creates the customer in the simulator", async () => {
    const before = interceptStats().bySimulator.stripe ?? 0;
    const response = await fetch('https://api.stripe.com/v1/customers', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=ada%40example.com',
    });
    expect(response.status).toBe(200);
    const customer = (await response.json()) as { id: string; email: string };
    expect(customer).toMatchObject({ object: 'customer', email: 'ada@example.com' });

    // the simulator holds it: ask it directly, without interception in the way
    const direct = new Stripe(key, { host: '127.0.0.1', port: stripeSim.port, protocol: 'http' });
    expect((await direct.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      email: 'ada@example.com',
    });
    // the direct call to 127.0.0.1 passed through: only the api.stripe.com request counted
    expect(interceptStats().bySimulator.stripe).toBe(before + 1);
    expect(interceptStats().byHost['api.stripe.com']).toBe(before + 1);
  });

  it('the Stripe SDK with its default host, over https, needs no certificate', async () => {
    const stripe = new Stripe(key);
    const customer = await stripe.customers.create({ email: 'grace@example.com' });
    expect(customer.id).toMatch(/^cus_/);
    expect((await stripe.customers.list({ email: 'grace@example.com' })).data.map((c) => c.id)).toEqual([
      customer.id,
    ]);
  });

  it('keeps method, path, query, headers and body; Host is the simulator; the answer comes back as sent', async () => {
    const response = await fetch('https://api.vendor.test/v1/things/7?expand[]=a&q=%20x', {
      method: 'PUT',
      headers: { 'x-custom': 'kept', accept: 'application/json', authorization: 'Bearer secret' },
      body: '{"name":"thing"}',
    });
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Made It');
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await response.json()).toEqual({ body: '{"name":"thing"}' });

    const seen = echo.seen.at(-1)!;
    expect(seen).toMatchObject({
      method: 'PUT',
      url: '/v1/things/7?expand[]=a&q=%20x',
      body: '{"name":"thing"}',
    });
    expect(seen.headers).toMatchObject({
      host: `127.0.0.1:${echo.port}`,
      'x-custom': 'kept',
      accept: 'application/json',
      authorization: 'Bearer secret',
      'content-length': '16',
    });
  });

  it("puts the path under the target's base path; msw's bypass marker does not reach the simulator", async () => {
    await fetch('https://prefixed.vendor.test/v1/x?y=1');
    const seen = echo.seen.at(-1)!;
    expect(seen.url).toBe('/base/v1/x?y=1');
    expect(JSON.stringify(seen.headers)).not.toMatch(/msw/);
  });

  it('a request body streamed in chunks over node:https arrives whole', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        'https://api.vendor.test/v1/upload',
        { method: 'POST', headers: { 'content-type': 'text/plain' } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.write('part one, ');
      setTimeout(() => req.end('part two'), 20);
    });
    expect(JSON.parse(body)).toEqual({ body: 'part one, part two' });
    expect(echo.seen.at(-1)!.headers['transfer-encoding']).toBeUndefined();
  });

  it('streams the answer: the client reads the first part before the simulator sends the second', async () => {
    const chunks: string[] = [];
    const { body } = await httpsGet('https://api.vendor.test/v1/stream', (chunk) => {
      chunks.push(chunk);
      if (chunk.includes('one')) echo.releaseStream();
    });
    expect(body).toBe('one\ntwo\n');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
  });

  it('returns redirects to the client, which follows them or not as it would', async () => {
    const manual = await fetch('https://api.vendor.test/v1/redirect', { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe('/v1/final');

    const viaHttps = await httpsGet('https://api.vendor.test/v1/redirect');
    expect(viaHttps.status).toBe(302);

    const followed = await fetch('https://api.vendor.test/v1/redirect');
    expect(followed.status).toBe(201);
    expect(followed.url).toBe('https://api.vendor.test/v1/final');
    expect(echo.seen.at(-1)!.url).toBe('/v1/final');
  });

  it('a compressed answer reaches the client decoded, without the encoding header', async () => {
    expect(await (await fetch('https://api.vendor.test/v1/gzip')).text()).toBe('unzipped');
    const viaHttps = await httpsGet('https://api.vendor.test/v1/gzip');
    expect(viaHttps.body).toBe('unzipped');
    expect(viaHttps.headers['content-encoding']).toBeUndefined();
  });

  it('a simulator that is down or silent, or a body over maxBodyBytes, is a network error for the client', async () => {
    const failed = interceptStats().failed;
    await expect(fetch('https://down.vendor.test/v1/x')).rejects.toThrow(/fetch failed/);
    const startedAt = performance.now();
    await expect(fetch('https://api.vendor.test/v1/hang')).rejects.toThrow(/fetch failed/);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    await expect(
      fetch('https://api.vendor.test/v1/big', { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) }),
    ).rejects.toThrow(/fetch failed/);
    expect(interceptStats().failed).toBe(failed + 3);
    expect(echo.seen.some((seen) => seen.url === '/v1/big')).toBe(false);
  });

  it('leaves other hosts alone: a local server by the name localhost gets the request untouched', async () => {
    const before = interceptStats().intercepted;
    const seenBefore = echo.seen.length;
    const response = await fetch(`http://localhost:${echo.port}/plain?x=1`, {
      headers: { 'x-custom': 'kept' },
    });
    expect(response.status).toBe(201);
    expect(echo.seen.slice(seenBefore)).toMatchObject([
      { method: 'GET', url: '/plain?x=1', headers: { host: `localhost:${echo.port}`, 'x-custom': 'kept' } },
    ]);
    expect(interceptStats().intercepted).toBe(before);
  });

  it('leaves protocols other than HTTP alone: a raw TCP exchange passes through', async () => {
    const server = createTcpServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.end('\x00\x00\x00\x08\x04\xd2\x16\x2f not http\n');
    let echoed = '';
    for await (const chunk of socket) echoed += chunk;
    server.close();
    expect(echoed).toBe('\x00\x00\x00\x08\x04\xd2\x16\x2f not http\n');
  });

  it('a module holding request from `import { request } from "node:https"` is intercepted too', async () => {
    // httpsRequest above is such a binding, taken before the interception started
    const { status, body } = await httpsGet('https://api.vendor.test/v1/named');
    expect(status).toBe(201);
    expect(JSON.parse(body)).toEqual({ body: '' });
    expect(echo.seen.at(-1)!.url).toBe('/v1/named');
  });
});
