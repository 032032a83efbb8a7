// The admin API through toxiproxy-node-client (as a test against a real Toxiproxy would use it),
// and its error answers byte for byte.
import { type ICreateToxicBody, Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type StartedFaultProxy, startFaultProxy, toxiproxyApiVersion } from '../index.ts';
import { connected, exchange, portOf, startEchoServer, startTcpServer, type TestServer } from './testing.ts';

let faults: StartedFaultProxy;
let toxiproxy: Toxiproxy;
let echo: TestServer;

beforeAll(async () => {
  faults = await startFaultProxy({ seed: 1 });
  toxiproxy = new Toxiproxy(faults.url);
  echo = await startEchoServer();
});
afterAll(async () => {
  await faults?.close();
  await echo?.close();
});

let counter = 0;
const uniqueName = (base: string) => `${base}_${++counter}`;

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${faults.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

const latency = (name: string, ms: number): ICreateToxicBody<{ latency: number; jitter: number }> => ({
  name,
  type: 'latency',
  stream: 'downstream',
  toxicity: 1,
  attributes: { latency: ms, jitter: 0 },
});

describe('proxies', () => {
  test('create, show, list, delete', async () => {
    const name = uniqueName('api');
    const proxy = await toxiproxy.createProxy({ name, listen: 'localhost:0', upstream: echo.address });
    expect(proxy.enabled).toBe(true);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(portOf(proxy.listen)).toBeGreaterThan(0);
    expect(proxy.upstream).toBe(echo.address);

    const shown = await toxiproxy.get(name);
    expect(shown.toJson()).toEqual({ name, listen: proxy.listen, upstream: echo.address, enabled: true });
    const all = await toxiproxy.getAll();
    expect(all[name]?.listen).toBe(proxy.listen);

    const through = await exchange(portOf(proxy.listen), { send: 'hello', end: true });
    expect(through.data.toString()).toBe('hello');

    await proxy.remove();
    await expect(toxiproxy.get(name)).rejects.toThrow(/status code 404/);
    await expect(connected(portOf(proxy.listen))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('the JSON of a proxy is field for field Toxiproxy’s', async () => {
    const name = uniqueName('shape');
    const created = await call('POST', '/proxies', JSON.stringify({ name, upstream: echo.address }));
    expect(created.status).toBe(201);
    expect(created.type).toBe('application/json');
    const body = JSON.parse(created.text);
    expect(Object.keys(body)).toEqual(['name', 'listen', 'upstream', 'enabled', 'toxics']);
    expect(body.toxics).toEqual([]);
    await call(
      'POST',
      `/proxies/${name}/toxics`,
      JSON.stringify({ type: 'latency', attributes: { latency: 5 } }),
    );
    const toxics = JSON.parse((await call('GET', `/proxies/${name}/toxics`)).text);
    expect(toxics).toEqual([
      {
        attributes: { latency: 5, jitter: 0 },
        name: 'latency_downstream',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
      },
    ]);
    expect(Object.keys(toxics[0])).toEqual(['attributes', 'name', 'type', 'stream', 'toxicity']);
    await call('DELETE', `/proxies/${name}`);
  });

  test('disabling closes connections and refuses new ones; enabling listens again on the same port', async () => {
    const name = uniqueName('toggle');
    const proxy = await toxiproxy.createProxy({ name, listen: '127.0.0.1:0', upstream: echo.address });
    const port = portOf(proxy.listen);
    const open = await connected(port);
    const closedEarly = new Promise((resolve) => open.once('close', resolve));
    open.on('error', () => {});

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    await closedEarly;
    await expect(connected(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const enabled = await disabled.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.enabled).toBe(true);
    expect(enabled.listen).toBe(proxy.listen);
    expect((await exchange(port, { send: 'again', end: true })).data.toString()).toBe('again');
    await proxy.remove();
  });

  test('a new upstream restarts the proxy and its connections', async () => {
    const name = uniqueName('move');
    const other = await startTcpServer((socket) => socket.end('other'));
    try {
      const proxy = await toxiproxy.createProxy({ name, listen: '127.0.0.1:0', upstream: echo.address });
      const moved = await call('PATCH', `/proxies/${name}`, JSON.stringify({ upstream: other.address }));
      expect(moved.status).toBe(200);
      expect(JSON.parse(moved.text)).toMatchObject({ upstream: other.address, enabled: true });
      expect((await exchange(portOf(proxy.listen))).data.toString()).toBe('other');
      await proxy.remove();
    } finally {
      await other.close();
    }
  });

  test('populate creates, keeps unchanged proxies and replaces changed ones', async () => {
    const [a, b] = [uniqueName('pop'), uniqueName('pop')];
    const first = await toxiproxy.populate([
      { name: a, listen: '127.0.0.1:0', upstream: echo.address },
      { name: b, listen: '127.0.0.1:0', upstream: echo.address, enabled: false },
    ]);
    expect(first[a]?.enabled).toBe(true);
    expect(first[b]?.enabled).toBe(false);
    const aListen = first[a]!.listen;
    await first[a]!.addToxic(latency('slow', 1));

    const again = await toxiproxy.populate([{ name: a, listen: aListen, upstream: echo.address }]);
    expect(again[a]?.listen).toBe(aListen);
    expect((await toxiproxy.get(a)).toJson()).toMatchObject({ listen: aListen });
    expect(JSON.parse((await call('GET', `/proxies/${a}/toxics`)).text)).toHaveLength(1);

    // a new upstream replaces the proxy: same address, no toxics, the new upstream answers
    const other = await startTcpServer((socket) => socket.end('other'));
    try {
      const replaced = await toxiproxy.populate([{ name: a, listen: aListen, upstream: other.address }]);
      expect(replaced[a]?.toJson()).toMatchObject({ listen: aListen, upstream: other.address });
      expect(JSON.parse((await call('GET', `/proxies/${a}/toxics`)).text)).toEqual([]);
      expect((await exchange(portOf(aListen))).data.toString()).toBe('other');
    } finally {
      await other.close();
    }

    const bad = await call('POST', '/populate', JSON.stringify([{ name: a }]));
    expect(bad).toMatchObject({ status: 400, type: 'application/json' });
    expect(JSON.parse(bad.text)).toEqual({
      error: 'missing required field: upstream at proxy 1',
      status: 400,
      proxies: null,
    });
    await call('DELETE', `/proxies/${a}`);
    await call('DELETE', `/proxies/${b}`);
  });

  test('reset enables every proxy and removes every toxic', async () => {
    const name = uniqueName('reset');
    const proxy = await toxiproxy.createProxy({ name, listen: '127.0.0.1:0', upstream: echo.address });
    await proxy.addToxic(latency('slow', 1));
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    await toxiproxy.reset();
    const after = JSON.parse((await call('GET', `/proxies/${name}`)).text);
    expect(after).toMatchObject({ enabled: true, listen: proxy.listen, toxics: [] });
    await proxy.remove();
  });

  test('version', async () => {
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: toxiproxyApiVersion });
  });

  test('in-process: createProxy and proxies()', async () => {
    const name = uniqueName('inproc');
    const view = await faults.createProxy({ name, upstream: echo.address });
    expect(view).toMatchObject({ name, enabled: true, toxics: [] });
    expect(faults.proxies().map((proxy) => proxy.name)).toContain(name);
    await expect(faults.createProxy({ name, upstream: echo.address })).rejects.toMatchObject({
      code: 'PW_FAULT_PROXY_CONFLICT',
      status: 409,
    });
    await call('DELETE', `/proxies/${name}`);
  });
});

describe('toxics', () => {
  test('add, show, update, remove', async () => {
    const proxy = await toxiproxy.createProxy({
      name: uniqueName('toxics'),
      listen: '127.0.0.1:0',
      upstream: echo.address,
    });
    const toxic = await proxy.addToxic(latency('lag', 10));
    expect(toxic.toJson()).toEqual(latency('lag', 10));
    const shown = await proxy.getToxic('lag');
    expect(shown.attributes).toEqual({ latency: 10, jitter: 0 });
    const updated = await toxic.update({ ...latency('lag', 20), toxicity: 0.5 });
    expect(updated.attributes).toEqual({ latency: 20, jitter: 0 });
    expect(updated.toxicity).toBe(0.5);
    // an update merges attributes and keeps toxicity when it is not given
    const merged = await call(
      'POST',
      `/proxies/${proxy.name}/toxics/lag`,
      JSON.stringify({ attributes: { jitter: 3 } }),
    );
    expect(JSON.parse(merged.text)).toMatchObject({ attributes: { latency: 20, jitter: 3 }, toxicity: 0.5 });
    await updated.remove();
    await expect(proxy.getToxic('lag')).rejects.toThrow(/status code 404/);
    await proxy.remove();
  });

  test('defaults: downstream, toxicity 1, name <type>_<stream>', async () => {
    const name = uniqueName('defaults');
    await faults.createProxy({ name, upstream: echo.address });
    const added = await call(
      'POST',
      `/proxies/${name}/toxics`,
      JSON.stringify({ type: 'timeout', stream: 'upstream' }),
    );
    expect(added.status).toBe(200);
    expect(JSON.parse(added.text)).toEqual({
      attributes: { timeout: 0 },
      name: 'timeout_upstream',
      type: 'timeout',
      stream: 'upstream',
      toxicity: 1,
    });
    await call('DELETE', `/proxies/${name}`);
  });
});

describe('errors, as Toxiproxy answers them', () => {
  const errorBody = (error: string, status: number) => `${JSON.stringify({ error, status })}\n`;
  let name: string;
  beforeAll(async () => {
    name = uniqueName('errors');
    await faults.createProxy({ name, upstream: echo.address });
    await call('POST', `/proxies/${name}/toxics`, JSON.stringify({ name: 'taken', type: 'latency' }));
  });

  type ErrorCase = [
    label: string,
    method: string,
    path: string | (() => string),
    body: (() => string) | undefined,
    status: number,
    message: string | RegExp,
  ];
  const errorCases: ErrorCase[] = [
    [
      'duplicate proxy',
      'POST',
      '/proxies',
      () => JSON.stringify({ name, upstream: echo.address }),
      409,
      'proxy already exists',
    ],
    ['unknown proxy', 'GET', '/proxies/nope', undefined, 404, 'proxy not found'],
    ['unknown proxy, delete', 'DELETE', '/proxies/nope', undefined, 404, 'proxy not found'],
    ['unknown proxy, toxics', 'GET', '/proxies/nope/toxics', undefined, 404, 'proxy not found'],
    ['unknown toxic', 'GET', () => `/proxies/${name}/toxics/nope`, undefined, 404, 'toxic not found'],
    [
      'unknown toxic, delete',
      'DELETE',
      () => `/proxies/${name}/toxics/nope`,
      undefined,
      404,
      'toxic not found',
    ],
    ['bad JSON', 'POST', '/proxies', () => '{"name": ', 400, /^bad request body: /],
    ['empty body', 'POST', '/proxies', () => '', 400, 'bad request body: EOF'],
    [
      'missing name',
      'POST',
      '/proxies',
      () => JSON.stringify({ upstream: echo.address }),
      400,
      'missing required field: name',
    ],
    [
      'missing upstream',
      'POST',
      '/proxies',
      () => JSON.stringify({ name: 'x' }),
      400,
      'missing required field: upstream',
    ],
    [
      'a field of the wrong type',
      'POST',
      '/proxies',
      () => JSON.stringify({ name: 7, upstream: echo.address }),
      400,
      'bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string',
    ],
    [
      'invalid toxic type',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ type: 'nope' }),
      400,
      'invalid toxic type',
    ],
    [
      'invalid stream',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ type: 'latency', stream: 'sideways' }),
      400,
      'stream was invalid, can be either upstream or downstream',
    ],
    [
      'duplicate toxic',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ name: 'taken', type: 'bandwidth' }),
      409,
      'toxic already exists',
    ],
    [
      'an attribute with a fraction',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ type: 'latency', attributes: { latency: 1.5 } }),
      400,
      /^bad request body: json: cannot unmarshal number 1.5 into Go struct field/,
    ],
    [
      'a negative attribute',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ type: 'latency', attributes: { latency: -1 } }),
      400,
      /^bad request body: latency must be from 0/,
    ],
    [
      'a slicer that would never end',
      'POST',
      () => `/proxies/${name}/toxics`,
      () => JSON.stringify({ type: 'slicer', attributes: { average_size: 0 } }),
      400,
      'bad request body: average_size must be greater than 0',
    ],
    [
      'an upstream off this machine',
      'POST',
      '/proxies',
      () => JSON.stringify({ name: 'far', upstream: '10.1.2.3:80' }),
      400,
      /connects only to 127\.0\.0\.0\/8, ::1 and localhost/,
    ],
    [
      'a listen address off loopback',
      'POST',
      '/proxies',
      () => JSON.stringify({ name: 'wide', listen: '0.0.0.0:0', upstream: echo.address }),
      400,
      /listens on 127\.0\.0\.1 only/,
    ],
  ];

  test.each(errorCases)('%s', async (_case, method, path, body, status, message) => {
    const answer = await call(
      method,
      typeof path === 'function' ? path() : path,
      typeof body === 'function' ? body() : body,
    );
    expect(answer.status).toBe(status);
    expect(answer.type).toBe('text/plain; charset=utf-8');
    const parsed = JSON.parse(answer.text);
    expect(parsed.status).toBe(status);
    if (typeof message === 'string') expect(answer.text).toBe(errorBody(message, status));
    else expect(parsed.error).toMatch(message);
  });

  test('the client sees the status in its error', async () => {
    const error = await toxiproxy
      .createProxy({ name, listen: '127.0.0.1:0', upstream: echo.address })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToxiproxyError);
    expect((error as Error).message).toBe('Request failed with status code 409');
  });

  test('a listen port in use is a 409', async () => {
    const taken = await call(
      'POST',
      '/proxies',
      JSON.stringify({ name: 'clash', listen: echo.address, upstream: echo.address }),
    );
    expect(taken.status).toBe(409);
    expect(JSON.parse(taken.text).error).toBe(`listen tcp ${echo.address}: bind: address already in use`);
    expect((await call('GET', '/proxies/clash')).status).toBe(404);
  });

  test('unknown paths, other methods, browsers, bodies too large', async () => {
    expect(await call('GET', '/nope')).toMatchObject({ status: 404, text: '404 page not found\n' });
    expect(await call('GET', '/proxies/')).toMatchObject({ status: 404 });
    expect(await call('PUT', '/proxies')).toMatchObject({ status: 405, text: '' });
    expect(await call('GET', '/reset')).toMatchObject({ status: 405 });
    expect(await call('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0' })).toMatchObject({
      status: 403,
      text: 'User agent not allowed\n',
    });
    const large = await call('POST', '/proxies', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(large.status).toBe(413);
    expect(JSON.parse(large.text)).toEqual({
      error: 'bad request body: http: request body too large',
      status: 413,
    });
  });
});
