// Where a simulator may send traffic of its own (webhooks, status callbacks): by default only to
// this machine's loopback addresses (127.0.0.0/8, ::1) and `localhost`, never to other hosts,
// private ranges (10.x, 172.16–31.x, 192.168.x) included. A simulator is a test double on a
// developer's machine or a CI runner; a webhook URL typed into it must not turn it into a client
// of someone else's network. Each simulator has an `allowExternalWebhooks` option for the rare
// receiver elsewhere. Every outgoing POST goes through `postOutbound`, which checks again (an
// endpoint changed since it was checked, or stored through a path that did not check) and does
// not follow redirects, since a redirect could lead anywhere.
//
// @example
//   const problem = outboundUrlProblem(url, { allowExternal: options.allowExternalWebhooks });
//   if (problem) return res.status(400).json(vendorError(problem));
//   const result = await postOutbound(url, { method: 'POST', body }, { signal: ctx.signal, timeoutMs: 5_000 });
import { isIPv4, isIPv6 } from 'node:net';
import { SimulatorError } from './errors.ts';

export interface OutboundOptions {
  /** Allow hosts other than loopback; default false (the `allowExternalWebhooks` option). */
  allowExternal?: boolean | undefined;
}

/** True for `localhost` and loopback literals: 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.split('.')[0] === '127';
  // the URL parser writes IPv6 in its shortest form: ::1, never 0:0:…:1
  if (isIPv6(host)) return host === '::1';
  return false;
}

/**
 * Why `url` may not be sent to, or null when it may: not an http(s) URL, or (unless
 * `allowExternal`) a host that is not loopback. The message names the option that allows it.
 */
export function outboundUrlProblem(url: string, options: OutboundOptions = {}): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `${JSON.stringify(url)} is not an http(s) URL`;
  }
  if (!options.allowExternal && !isLoopbackHost(parsed.hostname)) {
    return (
      `${parsed.hostname} is not a loopback address: the simulator sends webhooks only to ` +
      '127.0.0.0/8, ::1 and localhost unless it is made with the option allowExternalWebhooks: true'
    );
  }
  return null;
}

/** Throws PW_SIM_OUTBOUND_BLOCKED when {@link outboundUrlProblem} finds a problem. */
export function checkOutboundUrl(url: string, options: OutboundOptions = {}): URL {
  const problem = outboundUrlProblem(url, options);
  if (problem) {
    throw new SimulatorError(
      'PW_SIM_OUTBOUND_BLOCKED',
      problem,
      'point the webhook at a receiver on this machine (http://127.0.0.1:PORT/…)',
    );
  }
  return new URL(url);
}

export interface OutboundResult {
  /** A 2xx answer. A redirect (3xx) is not followed and is not ok. */
  ok: boolean;
  /** The receiver's status, when it answered. */
  status?: number;
  /** Why it failed, when it did not answer or was not allowed: `timed out after 5000 ms`, `ECONNREFUSED`, … */
  error?: string;
  /** True when the POST was not made at all (the URL is not allowed). */
  blocked?: boolean;
}

/**
 * One request to `url`, never following a redirect, bounded by `timeoutMs` and by `signal` (the
 * simulator stopping), after checking `url` again. Never throws; the answer's body is discarded.
 */
export async function postOutbound(
  url: string,
  init: Omit<RequestInit, 'redirect' | 'signal'>,
  options: OutboundOptions & { signal: AbortSignal; timeoutMs: number },
): Promise<OutboundResult> {
  const problem = outboundUrlProblem(url, options);
  if (problem) return { ok: false, blocked: true, error: problem };
  if (options.signal.aborted) return { ok: false, error: 'the simulator stopped' };
  try {
    const response = await fetch(url, {
      method: 'POST',
      ...init,
      // a redirect is a failed attempt: following it could lead off this machine
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    await response.body?.cancel();
    return { ok: response.status >= 200 && response.status < 300, status: response.status };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError')
      return { ok: false, error: `timed out after ${options.timeoutMs} ms` };
    if (options.signal.aborted) return { ok: false, error: 'the simulator stopped' };
    // fetch wraps the socket's error: its code (ECONNREFUSED) says more than "fetch failed"
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
