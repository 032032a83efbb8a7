// Every proxy of one fault proxy, by name (Toxiproxy's ProxyCollection): create, populate,
// remove, reset. Changes run one at a time, as Toxiproxy's locks make them.
import { parseListen, parseUpstream, sameListen } from './addresses.ts';
import {
  badRequestBody,
  FaultProxyApiError,
  missingField,
  proxyAlreadyExists,
  proxyNotFound,
} from './api-error.ts';
import { boolField, type JsonObject, objectBody, stringField } from './decode.ts';
import { type ProxyContext, type ProxyView, TcpProxy } from './proxy.ts';

/** What POST /proxies accepts. */
export interface ProxyInput {
  name: string;
  /** `127.0.0.1:PORT` (or `localhost:PORT`); port 0 for a free one. Default `127.0.0.1:0`. */
  listen?: string;
  /** HOST:PORT on this machine. */
  upstream: string;
  /** Default true. */
  enabled?: boolean;
}

interface ProxyFields {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

export class ProxyCollection {
  readonly #context: ProxyContext & { maxProxies: number };
  readonly #proxies = new Map<string, TcpProxy>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(context: ProxyContext & { maxProxies: number }) {
    this.#context = context;
  }

  /** Runs `task` once the changes before it are done. */
  exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** By name, as Go marshals a map. */
  list(): ProxyView[] {
    return [...this.#proxies.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((proxy) => proxy.view());
  }

  get(name: string): TcpProxy {
    const proxy = this.#proxies.get(name);
    if (!proxy) throw proxyNotFound();
    return proxy;
  }

  async create(body: unknown): Promise<ProxyView> {
    const fields = readProxy(objectBody(body, 'toxiproxy.Proxy'), '');
    if (this.#proxies.has(fields.name)) throw proxyAlreadyExists();
    this.#checkRoom(1);
    const proxy = new TcpProxy(this.#context, fields);
    if (fields.enabled) await proxy.start();
    this.#proxies.set(fields.name, proxy);
    return proxy.view();
  }

  /**
   * Creates or replaces each proxy of a list; one whose listen and upstream are unchanged is left
   * as it is (its toxics and connections too). The whole list is checked before anything changes.
   */
  async populate(body: unknown): Promise<ProxyView[]> {
    if (!Array.isArray(body)) {
      const kind = body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body;
      throw badRequestBody(`json: cannot unmarshal ${kind} into Go value of type []toxiproxy.Proxy`);
    }
    const inputs = body.map((item, index) =>
      readProxy(objectBody(item, 'toxiproxy.Proxy'), ` at proxy ${index + 1}`),
    );
    const names = new Set<string>();
    for (const input of inputs) {
      if (names.has(input.name)) throw badRequestBody(`duplicate proxy name ${JSON.stringify(input.name)}`);
      names.add(input.name);
    }
    this.#checkRoom(inputs.filter((input) => !this.#proxies.has(input.name)).length);
    const views: ProxyView[] = [];
    for (const input of inputs) {
      const existing = this.#proxies.get(input.name);
      if (existing && existing.upstream === input.upstream && sameListen(existing.listen, input.listen)) {
        views.push(existing.view());
        continue;
      }
      if (existing) {
        await existing.stop();
        this.#proxies.delete(input.name);
      }
      const proxy = new TcpProxy(this.#context, input);
      if (input.enabled) await proxy.start();
      this.#proxies.set(input.name, proxy);
      views.push(proxy.view());
    }
    return views;
  }

  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.#proxies.delete(name);
    await proxy.stop();
  }

  /** Enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    for (const proxy of this.#proxies.values()) {
      await proxy.start();
      proxy.removeAllToxics();
    }
  }

  /** Stops every proxy (the fault proxy is closing). */
  async closeAll(): Promise<void> {
    const proxies = [...this.#proxies.values()];
    this.#proxies.clear();
    await Promise.all(proxies.map((proxy) => proxy.stop()));
  }

  #checkRoom(adding: number): void {
    const { maxProxies } = this.#context;
    if (this.#proxies.size + adding > maxProxies) {
      throw new FaultProxyApiError(
        400,
        `bad request body: at most ${maxProxies} proxies (there are ${this.#proxies.size})`,
        'delete proxies you no longer use, or start the fault proxy with a higher maxProxies',
      );
    }
  }
}

function readProxy(body: JsonObject, where: string): ProxyFields {
  const name = stringField(body, 'name', 'Proxy') ?? '';
  const listen = stringField(body, 'listen', 'Proxy') ?? '';
  const upstream = stringField(body, 'upstream', 'Proxy') ?? '';
  const enabled = boolField(body, 'enabled', 'Proxy') ?? true;
  if (name === '') throw missingField(`name${where}`);
  if (upstream === '') throw missingField(`upstream${where}`);
  parseListen(listen);
  parseUpstream(upstream);
  return { name, listen: listen === '' ? '127.0.0.1:0' : listen, upstream, enabled };
}
