// Auth0 answers errors in two shapes, and clients parse exactly these: the Authentication API
// (/oauth/token, /userinfo) sends OAuth's `{error, error_description}`, the Management API
// (/api/v2/…) sends `{statusCode, error, message, errorCode}`. The throttle and outage answers
// of the kit's faults take the same shapes, with the `x-ratelimit-*` headers Auth0 sends.
import { STATUS_CODES } from 'node:http';
import type { Request } from 'express';
import type { VendorResponse, VendorResponses } from '../kit/index.ts';

/** An Authentication API error: `{error, error_description}` with its status. */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.name = 'OAuthError';
    this.status = status;
    this.error = error;
    this.headers = headers;
  }

  toBody() {
    return { error: this.error, error_description: this.message };
  }
}

/** A Management API error: `{statusCode, error, message, errorCode?}`. */
export class ManagementError extends Error {
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly attributes: Record<string, unknown> | undefined;

  constructor(status: number, message: string, errorCode?: string, attributes?: Record<string, unknown>) {
    super(message);
    this.name = 'ManagementError';
    this.status = status;
    this.errorCode = errorCode;
    this.attributes = attributes;
  }

  toBody() {
    return managementBody(this.status, this.message, this.errorCode, this.attributes);
  }
}

export function managementBody(
  status: number,
  message: string,
  errorCode?: string,
  attributes?: Record<string, unknown>,
) {
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    message,
    ...(errorCode ? { errorCode } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

// Paths answered in the Authentication API's OAuth shape; everything else is the Management API's.
const oauthPaths = /^\/(oauth\/|userinfo|\.well-known\/|lo\/|u\/)/;
const isOAuthPath = (req: Request) => oauthPaths.test(req.path);

// OAuth's error code for a status, for errors that carry only a status (injected faults, 404s)
function oauthCode(status: number): string {
  if (status === 429) return 'too_many_requests';
  if (status === 401 || status === 403) return 'access_denied';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

const throttleMessage = 'Global limit has been reached';

/**
 * The rate-limit headers Auth0 sends: the bucket's size, what is left, and when it refills in
 * epoch seconds. The reset is on real time, not the simulator clock: clients (the auth0 SDK
 * among them) compute their wait from their own wall clock.
 */
export function rateLimitHeaders(retryAfterS: number, limit = 50): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000 + retryAfterS)),
  };
}

export const auth0VendorResponses: VendorResponses = {
  error: (status, message, req): VendorResponse =>
    isOAuthPath(req)
      ? { status, body: { error: oauthCode(status), error_description: message } }
      : { status, body: managementBody(status, message) },
  throttle: (req, { retryAfterS }) => ({
    status: 429,
    headers: rateLimitHeaders(retryAfterS),
    body: isOAuthPath(req)
      ? { error: 'too_many_requests', error_description: throttleMessage }
      : managementBody(429, throttleMessage, 'too_many_requests'),
  }),
  outage: (req, { status, retryAfterS }) => {
    const message = 'The service is unavailable. Please try again later.';
    return {
      status,
      headers: { 'retry-after': String(retryAfterS) },
      body: isOAuthPath(req)
        ? { error: oauthCode(status), error_description: message }
        : managementBody(status, message),
    };
  },
};
