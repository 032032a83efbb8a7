// The addresses a proxy may use. It listens on 127.0.0.1 only and connects only to this machine
// (127.0.0.0/8, ::1, localhost): the fault proxy is a test double, and a proxy typed into its API
// must not open a port to the network or become a relay to other hosts.
import { isLoopbackHost } from '../../../simulators/kit/index.ts';
import { badRequestBody } from './api-error.ts';

export const listenHost = '127.0.0.1';

export interface HostPort {
  host: string;
  port: number;
}

function splitHostPort(address: string): { host: string; port: string } | undefined {
  const colon = address.lastIndexOf(':');
  if (colon === -1) return undefined;
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: address.slice(colon + 1) };
}

function parsePort(text: string, min: number): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= min && port <= 65_535 ? port : undefined;
}

/** `listen`: `127.0.0.1:PORT`, `localhost:PORT` or `:PORT` (port 0 for a free one); empty is `127.0.0.1:0`. */
export function parseListen(listen: string): HostPort {
  if (listen === '') return { host: listenHost, port: 0 };
  const parts = splitHostPort(listen);
  const port = parts && parsePort(parts.port, 0);
  if (!parts || port === undefined) {
    throw badRequestBody(`listen ${JSON.stringify(listen)} is not HOST:PORT (for example 127.0.0.1:0)`);
  }
  if (!['', 'localhost', listenHost].includes(parts.host.toLowerCase())) {
    throw badRequestBody(`listen ${JSON.stringify(listen)}: the fault proxy listens on ${listenHost} only`);
  }
  return { host: listenHost, port };
}

/** `upstream`: HOST:PORT on this machine. */
export function parseUpstream(upstream: string): HostPort {
  const parts = splitHostPort(upstream);
  const port = parts && parsePort(parts.port, 1);
  if (!parts || port === undefined || parts.host === '') {
    throw badRequestBody(
      `upstream ${JSON.stringify(upstream)} is not HOST:PORT (for example 127.0.0.1:8080)`,
    );
  }
  if (!isLoopbackHost(parts.host)) {
    throw badRequestBody(
      `upstream ${JSON.stringify(upstream)}: the fault proxy connects only to 127.0.0.0/8, ::1 and localhost`,
    );
  }
  return { host: parts.host, port };
}

/** Two `listen` values name the same address (`localhost:80` is `127.0.0.1:80`; port 0 never matches). */
export function sameListen(a: string, b: string): boolean {
  try {
    const [left, right] = [parseListen(a), parseListen(b)];
    return left.port !== 0 && left.port === right.port;
  } catch {
    return a === b;
  }
}
