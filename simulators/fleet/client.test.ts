// The typed gateway client against a fake gateway: each route's request and answer, 304, 410,
// Retry-After, network errors and the caller's abort.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, GatewayProtocolError, HttpError, NetworkError } from './client.ts';
import { FakeGateway } from './gateway-testing.ts';
import { generateEncryptionKey } from './secrets.ts';

let gateway: FakeGateway;

beforeAll(async () => {
  gateway = await new FakeGateway().start();
});
afterAll(() => gateway.close());

describe('GatewayClient', () => {
  it('registers with an encryption key, then uses the credential it got', async () => {
    const client = new GatewayClient({ url: `${gateway.url}/` });
    const key = generateEncryptionKey();
    const registered = await client.register({
      bootstrapToken: 'pwb_x',
      name: 'agent-1',
      encryptionKey: { kty: 'OKP', crv: 'X25519', x: key.x },
    });
    expect(registered).toMatchObject({ cell: 'cell-1', controlPlaneKeys: [{ kid: gateway.kid }] });
    expect(gateway.registrations.at(-1)).toEqual({
      name: 'agent-1',
      encryptionKey: { kty: 'OKP', crv: 'X25519', x: key.x },
    });
    await expect(client.heartbeat(0)).resolves.toBeUndefined();
    expect(gateway.heartbeats.at(-1)).toBe(0);
  });

  it('reads a snapshot, then answers notModified to its ETag', async () => {
    const client = new GatewayClient({ url: gateway.url });
    await client.register({ bootstrapToken: 'pwb_x', name: 'agent-2' });
    gateway.put('3b6f2c1e-0000-4000-8000-000000000001', { size: 1 });
    const snapshot = await client.snapshot();
    expect(snapshot).toMatchObject({ notModified: false, cell: 'cell-1', sequence: gateway.sequence });
    if (snapshot.notModified) throw new Error('expected a body');
    expect(snapshot.resources[0]!.desired.spec).toEqual({ size: 1 });
    expect(await client.snapshot({ etag: snapshot.etag })).toEqual({
      notModified: true,
      etag: snapshot.etag,
    });
  });

  it('long-polls events, posts status, and turns 410 and 429 into HttpError', async () => {
    const client = new GatewayClient({ url: gateway.url, requestTimeoutMs: 2_000 });
    await client.register({ bootstrapToken: 'pwb_x', name: 'agent-3' });
    const after = gateway.sequence;
    const waiting = client.events({ after, wait: 5_000 });
    setTimeout(() => gateway.put('3b6f2c1e-0000-4000-8000-000000000002', { size: 2 }), 50);
    const page = await waiting;
    expect(page.events.map((envelope) => envelope.event.sequence)).toEqual([after + 1]);
    expect(page.events[0]).toMatchObject({ kid: gateway.kid, signature: expect.any(String) });

    const results = await client.status([
      {
        resourceId: page.events[0]!.event.resourceId,
        observedGeneration: 1,
        status: {},
        observedSpec: { size: 2 },
      },
    ]);
    expect(results.results[0]!.outcome).toBe('applied');
    expect(gateway.reports.at(-1)?.observedSpec).toEqual({ size: 2 });

    gateway.prunedThrough = 1;
    const gone = await client.events({ after: 0 }).catch((error) => error);
    expect(gone).toBeInstanceOf(HttpError);
    expect(gone).toMatchObject({ status: 410, code: 'snapshot_required' });
    gateway.prunedThrough = 0;
    gateway.fail('/v1/agent/heartbeat', 429, { code: 'rate_limited', retryAfterSeconds: 2 });
    await expect(client.heartbeat(1)).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retryAfterMs: 2_000,
    });
  });

  it('names a refused connection, a timeout and a malformed answer; an abort stays an abort', async () => {
    const refused = await new GatewayClient({ url: 'http://127.0.0.1:9' })
      .heartbeat(0)
      .catch((error) => error);
    expect(refused).toBeInstanceOf(NetworkError);
    expect(refused.code).toBe('ECONNREFUSED');

    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const slow = await new GatewayClient({ url: silentUrl, requestTimeoutMs: 50 })
        .heartbeat(0)
        .catch((e) => e);
      expect(slow).toMatchObject({ name: 'NetworkError', code: 'PW_FLEET_TIMEOUT' });
      const abort = new AbortController();
      const pending = new GatewayClient({ url: silentUrl, signal: abort.signal })
        .heartbeat(0)
        .catch((e) => e);
      abort.abort();
      expect((await pending).name).toBe('AbortError');
    } finally {
      silent.closeAllConnections();
      silent.close();
    }

    const odd = http.createServer((_req, res) => res.end('{"nope":1}'));
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    try {
      const client = new GatewayClient({ url: `http://127.0.0.1:${(odd.address() as AddressInfo).port}` });
      await expect(client.events({ after: 0 })).rejects.toBeInstanceOf(GatewayProtocolError);
    } finally {
      odd.close();
    }
  });
});
