// Helpers for the auth simulator's tests: start it, get tokens over plain HTTP, and point the
// auth0 SDK at it. The SDK builds every URL as `https://<domain>/…` with no option to change
// the scheme or port; its documented `fetch` option is the seam, and simulatorFetch() sends
// those URLs to the simulator unchanged but for the origin.
import type { FaultRuleInput } from '../kit/index.ts';
import { APP_CLIENT, type AuthSimulatorOptions, createAuthSimulator, M2M_CLIENT } from './index.ts';

export async function startAuth(options: AuthSimulatorOptions & { faults?: FaultRuleInput[] } = {}) {
  const { faults, ...rest } = options;
  const builder = createAuthSimulator({ seed: 1, ...rest });
  if (faults) builder.withFaults(faults);
  return builder.start();
}

/** The domain the auth0 SDK is given; simulatorFetch() maps it to the simulator. */
export const TENANT_DOMAIN = 'tenant.auth0.test';

export function simulatorFetch(base: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const target = url.replace(`https://${TENANT_DOMAIN}`, base);
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
  body: any;
}

/** One HTTP call; `json` is sent as JSON, `form` form-encoded; JSON answers are parsed. */
export async function call(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown; form?: Record<string, string> } = {},
): Promise<Answer> {
  const { json, form, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(json);
  } else if (form) {
    headers.set('content-type', 'application/x-www-form-urlencoded');
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(`${base}${path}`, { ...rest, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed };
}

/** POST /oauth/token with form parameters. */
export const token = (base: string, params: Record<string, string>) =>
  call(base, '/oauth/token', { method: 'POST', form: params });

/** A Management API access token of the seeded M2M client (all scopes, or those asked for). */
export async function managementToken(base: string, scope?: string): Promise<string> {
  const answer = await token(base, {
    grant_type: 'client_credentials',
    client_id: M2M_CLIENT.client_id,
    client_secret: M2M_CLIENT.client_secret!,
    audience: `${base}/api/v2/`,
    ...(scope ? { scope } : {}),
  });
  if (answer.status !== 200) throw new Error(`no management token: ${JSON.stringify(answer.body)}`);
  return answer.body.access_token;
}

/** A password grant of the seeded regular web app. */
export const passwordGrant = (base: string, params: Record<string, string>) =>
  token(base, {
    grant_type: 'password',
    client_id: APP_CLIENT.client_id,
    client_secret: APP_CLIENT.client_secret!,
    ...params,
  });

/** A JWT's payload, unverified: for asserting on claims. */
// biome-ignore lint/suspicious/noExplicitAny: claims of every shape
export function claimsOf(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
}

export function admin(base: string) {
  return {
    get: (path: string) => call(base, `/_sim/${path}`),
    post: (path: string, json?: unknown) => call(base, `/_sim/${path}`, { method: 'POST', json: json ?? {} }),
    patch: (path: string, json: unknown) => call(base, `/_sim/${path}`, { method: 'PATCH', json }),
  };
}
