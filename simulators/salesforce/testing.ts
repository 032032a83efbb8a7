// Helpers for the Salesforce simulator's tests: start it, log jsforce in, call it over plain HTTP.
import jsforce from 'jsforce';
import type { FaultRuleInput } from '../kit/index.ts';
import { createSalesforceSimulator, type SalesforceSimulatorOptions } from './index.ts';

export const admin = { username: 'admin@planewright.test', password: 'planewright' };
export const integration = {
  username: 'integration@planewright.test',
  password: 'planewright',
  securityToken: 'PlanewrightSecurityToken',
};
export const client = { clientId: 'planewright-client', clientSecret: 'planewright-secret' };
export const apiVersion = '62.0';

export async function startSalesforce(
  options: SalesforceSimulatorOptions & { faults?: FaultRuleInput[] } = {},
) {
  const builder = createSalesforceSimulator({ seed: 1, ...options });
  if (options.faults) builder.withFaults(options.faults);
  return builder.start();
}

/** A jsforce connection whose login (password grant) goes to the simulator. */
export function connectionTo(url: string, version = apiVersion) {
  return new jsforce.Connection({ loginUrl: url, version, oauth2: { ...client, loginUrl: url } });
}

/** Logged in as the admin with the password grant, as an integration would. */
export async function loggedIn(url: string, version = apiVersion) {
  const conn = connectionTo(url, version);
  await conn.login(admin.username, admin.password);
  return conn;
}

/**
 * A connection holding only an access token: jsforce has no way to refresh it, so a dead session
 * reaches the test as INVALID_SESSION_ID instead of being renewed behind its back.
 */
export function tokenOnly(url: string, accessToken: string, version = apiVersion) {
  return new jsforce.Connection({ instanceUrl: url, accessToken, version });
}

/** The error a promise rejects with (jsforce's errors carry `errorCode` and `name`). */
export async function rejectionOf(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; data?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { errorCode?: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
  body: any;
}

/** One plain HTTP call; JSON answers are parsed. */
export async function call(
  url: string,
  init: RequestInit & { json?: unknown; token?: string } = {},
): Promise<Answer> {
  const { json, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  if (token) headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(url, {
    ...rest,
    headers,
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body };
}

/** An access token for the admin from the token endpoint (password grant, form-encoded). */
export async function passwordToken(url: string): Promise<string> {
  const answer = await call(`${url}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      ...admin,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }),
  });
  if (answer.status !== 200) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
  return answer.body.access_token as string;
}
