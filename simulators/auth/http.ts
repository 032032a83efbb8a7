// Helpers every auth route shares: one place that turns the two Auth0 error classes into their
// answers (anything else falls through to the kit's error handler), and readers for parameters
// that may arrive as JSON, a form or a query string.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ManagementError, OAuthError } from './errors.ts';

/** Wraps a route so that an OAuthError or ManagementError it throws becomes Auth0's answer. */
export function route(handler: (req: Request, res: Response) => unknown): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await handler(req, res);
    } catch (error) {
      if (error instanceof OAuthError) {
        res.status(error.status).set(error.headers).json(error.toBody());
      } else if (error instanceof ManagementError) {
        res.status(error.status).json(error.toBody());
      } else {
        next(error);
      }
    }
  };
}

export type Params = Record<string, unknown>;

/** The request body as an object; a body of another type reads as empty. */
export function bodyOf(req: Request): Params {
  const body: unknown = req.body;
  return body !== null && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Params) : {};
}

/** A string parameter, or undefined when absent or empty. */
export function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A space-separated list parameter (`scope`). */
export function listParam(params: Params, name: string): string[] {
  return (stringParam(params, name) ?? '').split(/\s+/).filter(Boolean);
}

/** An integer query parameter within bounds, or the default. */
export function intParam(
  params: Params,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(stringParam(params, name));
  return Number.isInteger(value) && value >= 0 ? Math.min(value, max) : fallback;
}

/** A boolean query parameter (`include_totals=true`). */
export function boolParam(params: Params, name: string, fallback: boolean): boolean {
  const value = stringParam(params, name);
  return value === undefined ? fallback : value === 'true';
}

/** `Authorization: Bearer <token>`'s token, if there is one. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
}
