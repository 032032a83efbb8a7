// The shape of a vendor's error answers. Each simulator supplies its own (Stripe's error object,
// Salesforce's error array, …) so that an injected fault reads to the vendor's SDK exactly as the
// real failure would; the defaults below are a generic JSON shape for a simulator that has none.
import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';

export interface VendorResponse {
  /** Defaults to the status the fault asks for. */
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON; a string or Buffer is sent as it is; undefined sends no body. */
  body: unknown;
}

export interface VendorResponses {
  /** The vendor's error for `status`: injected errors, unknown routes, unreadable bodies, crashes. */
  error(status: number, message: string, req: Request): VendorResponse;
  /** The vendor's rate-limit answer (429, or whatever the vendor uses) with its headers. */
  throttle(req: Request, details: { retryAfterS: number }): VendorResponse;
  /** The vendor's answer while it is down. */
  outage(req: Request, details: { status: number; retryAfterS: number }): VendorResponse;
}

export const defaultVendorResponses: VendorResponses = {
  error: (status, message) => ({ status, body: { error: { status, message } } }),
  throttle: (_req, { retryAfterS }) => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterS) },
    body: { error: { status: 429, message: 'Too many requests' } },
  }),
  outage: (_req, { status, retryAfterS }) => ({
    status,
    headers: { 'retry-after': String(retryAfterS) },
    body: { error: { status, message: STATUS_CODES[status] ?? 'Service unavailable' } },
  }),
};

/** Writes a vendor response, unless the client has already gone. */
export function sendVendorResponse(res: Response, response: VendorResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.status(response.status ?? status);
  if (response.headers) res.set(response.headers);
  const { body } = response;
  if (body === undefined) res.end();
  else if (typeof body === 'string' || Buffer.isBuffer(body)) res.send(body);
  else res.json(body);
}
