// Helpers for the kit's tests: start the example vendor, call it, and drive its admin API.
import { request as httpRequest } from 'node:http';
import type { FaultRuleInput } from '../index.ts';
import { createExampleSimulator, type ExampleOptions } from './index.ts';

export async function startExample(options: ExampleOptions & { faults?: FaultRuleInput[] } = {}) {
  const builder = createExampleSimulator({ seed: 1, ...options });
  if (options.faults) builder.withFaults(options.faults);
  return builder.start();
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
  body: any;
}

/** One HTTP call; JSON bodies are parsed. */
export async function call(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Answer> {
  const { json, ...rest } = init;
  const response = await fetch(`${base}${path}`, {
    ...rest,
    ...(json !== undefined
      ? { body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...rest.headers } }
      : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body };
}

export function admin(base: string) {
  return {
    get: (path: string) => call(base, `/_sim/${path}`),
    post: (path: string, json?: unknown) => call(base, `/_sim/${path}`, { method: 'POST', json }),
    delete: (path: string) => call(base, `/_sim/${path}`, { method: 'DELETE' }),
  };
}

/** A plain node:http GET, to see socket-level outcomes (ECONNRESET, a closed socket) exactly. */
export function rawGet(url: string): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

export const elapsedSince = (start: number) => performance.now() - start;
