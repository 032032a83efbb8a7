import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOutboundUrl, isLoopbackHost, outboundUrlProblem, postOutbound } from './index.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      return closed;
    }),
  );
});

/** A receiver on loopback; `handle` answers (or does not). */
async function receiver(handle: (req: IncomingMessage, res: import('node:http').ServerResponse) => void) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('outbound URLs', () => {
  it('allows loopback literals and localhost only, unless allowExternal', () => {
    for (const url of [
      'http://127.0.0.1:4000/hooks',
      'http://127.9.8.7/',
      'https://localhost/x',
      'http://LOCALHOST:1/',
      'http://[::1]:4000/',
      'http://2130706433/', // 127.0.0.1 as one number: the URL parser writes it dotted
    ]) {
      expect(outboundUrlProblem(url), url).toBeNull();
    }
    for (const url of [
      'https://example.com/hook',
      'http://10.0.0.5/',
      'http://172.16.0.1/',
      'http://172.31.255.1/',
      'http://192.168.1.10/',
      'http://0.0.0.0/',
      'http://[::ffff:a00:1]/',
      'http://localhost.example.com/',
      'http://169.254.169.254/latest/meta-data',
    ]) {
      expect(outboundUrlProblem(url), url).toMatch(/allowExternalWebhooks: true/);
      expect(outboundUrlProblem(url, { allowExternal: true }), url).toBeNull();
    }
    expect(outboundUrlProblem('ftp://127.0.0.1/')).toMatch(/not an http\(s\) URL/);
    expect(outboundUrlProblem('nope')).toMatch(/not a URL/);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(() => checkOutboundUrl('http://192.168.0.1/')).toThrow(
      /PW_SIM_OUTBOUND_BLOCKED: 192\.168\.0\.1 is not a loopback address.*allowExternalWebhooks/,
    );
    expect(checkOutboundUrl('http://127.0.0.1:1/a').pathname).toBe('/a');
  });

  it('postOutbound refuses a non-loopback URL without sending', async () => {
    const result = await postOutbound(
      'http://10.255.255.1/hook',
      { body: 'x' },
      { signal: new AbortController().signal, timeoutMs: 50 },
    );
    expect(result).toMatchObject({ ok: false, blocked: true });
    expect(result.error).toMatch(/allowExternalWebhooks/);
  });

  it('does not follow a redirect: the redirect is the (failed) answer', async () => {
    const target = await receiver((_req, res) => res.end('ok'));
    const redirecting = await receiver((_req, res) => {
      res.writeHead(307, { location: `${target.url}/landed` }).end();
    });
    const result = await postOutbound(
      `${redirecting.url}/hook`,
      { body: 'x' },
      { signal: new AbortController().signal, timeoutMs: 2_000 },
    );
    expect(result).toEqual({ ok: false, status: 307 });
    expect(target.seen).toEqual([]);
  });

  it('ends an attempt in flight when the stop signal fires, and on its timeout', async () => {
    const hanging = await receiver(() => {}); // never answers
    const stop = new AbortController();
    const started = performance.now();
    const pending = postOutbound(hanging.url, { body: 'x' }, { signal: stop.signal, timeoutMs: 30_000 });
    setTimeout(() => stop.abort(), 50);
    expect(await pending).toEqual({ ok: false, error: 'the simulator stopped' });
    expect(performance.now() - started).toBeLessThan(2_000);

    const timedOut = await postOutbound(
      hanging.url,
      { body: 'x' },
      { signal: new AbortController().signal, timeoutMs: 50 },
    );
    expect(timedOut).toEqual({ ok: false, error: 'timed out after 50 ms' });
  });
});
