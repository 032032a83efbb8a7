// What every Salesforce answer over HTTP shares: the `Sforce-Limit-Info` header, JSON bodies read
// leniently, and the base URL the client reached the simulator by.
import type { Request, Response } from 'express';
import { jsonParserError } from './errors.ts';
import type { SalesforceOrg } from './org.ts';
import type { ApiResponse } from './present.ts';

/** `Sforce-Limit-Info: api-usage=N/M`, sent on every answer, errors included, as Salesforce does. */
export const limitHeaders = (org: SalesforceOrg): Record<string, string> => ({
  'Sforce-Limit-Info': org.limits.headerValue(),
});

/** Writes an answer; the limit header is read now, after this call has been counted. */
export function sendResponse(res: Response, org: SalesforceOrg, response: ApiResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.status(response.status).set({ ...response.headers, ...limitHeaders(org) });
  if (response.body === undefined) res.end();
  // plain text where Salesforce sends it (the identity service's Bad_OAuth_Token)
  else if (typeof response.body === 'string') res.type('text/plain').send(response.body);
  else res.json(response.body);
}

/**
 * The request's JSON body, or undefined when it has none. A JSON body sent with another content
 * type (curl's default form type, text/plain) is read as JSON too: what the client meant is plain.
 */
export function jsonBodyOf(req: Request, rawBody: Buffer | undefined): unknown {
  if (!rawBody || rawBody.length === 0) return undefined;
  if (req.is('application/json') || req.is('application/*+json')) return req.body;
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw jsonParserError(`Unexpected character in the request body: ${(error as Error).message}`);
  }
}

/** `http://HOST:PORT` as the client addressed the simulator, so answers link back the same way. */
export function instanceUrlOf(req: Request, fallback: string): string {
  const host = req.get('host');
  return host ? `${req.protocol}://${host}` : fallback;
}
