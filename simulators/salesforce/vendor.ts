// Salesforce's own answers for the kit's faults, so jsforce reads an injected failure exactly as a
// real one: the error array with the limit header on the data API, OAuth's error object on the
// OAuth endpoints.
import type { Request } from 'express';
import type { VendorResponse, VendorResponses } from '../kit/index.ts';
import type { SalesforceState } from './state.ts';

/** The errorCode Salesforce pairs with each status; a rule's own `body` overrides it. */
const errorCodes: Record<number, string> = {
  400: 'JSON_PARSER_ERROR',
  401: 'INVALID_SESSION_ID',
  403: 'INSUFFICIENT_ACCESS_OR_READONLY',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'UNKNOWN_EXCEPTION',
  502: 'SERVER_UNAVAILABLE',
  503: 'SERVER_UNAVAILABLE',
  504: 'SERVER_UNAVAILABLE',
};

const oauthErrors: Record<number, string> = { 400: 'invalid_request', 401: 'invalid_client' };

const isOAuth = (req: Request) => req.path.startsWith('/services/oauth2/');

export function salesforceVendor(state: SalesforceState): VendorResponses {
  const withLimit = (extra: Record<string, string> = {}) => ({
    ...extra,
    'Sforce-Limit-Info': state.org.limits.headerValue(),
  });
  const oauth = (status: number, error: string, description: string, headers = {}): VendorResponse => ({
    status,
    headers: withLimit(headers),
    body: { error, error_description: description },
  });

  return {
    error(status, message, req) {
      if (isOAuth(req)) {
        return oauth(
          status,
          oauthErrors[status] ?? (status >= 500 ? 'server_error' : 'invalid_request'),
          message,
        );
      }
      const errorCode = errorCodes[status] ?? (status >= 500 ? 'UNKNOWN_EXCEPTION' : 'INVALID_REQUEST');
      return { status, headers: withLimit(), body: [{ message, errorCode }] };
    },

    // Salesforce has no 429: a spent allowance is 403 REQUEST_LIMIT_EXCEEDED, and a login storm
    // is refused by the token endpoint as a failed grant
    throttle(req, { retryAfterS }) {
      const retryAfter = { 'Retry-After': String(retryAfterS) };
      if (isOAuth(req)) return oauth(400, 'invalid_grant', 'Login Rate Exceeded', retryAfter);
      return {
        status: 403,
        headers: withLimit(retryAfter),
        body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
      };
    },

    outage(req, { status, retryAfterS }) {
      const retryAfter = { 'Retry-After': String(retryAfterS) };
      if (isOAuth(req)) return oauth(status, 'temporarily_unavailable', 'Service Unavailable', retryAfter);
      const errorCode = status === 500 ? 'UNKNOWN_EXCEPTION' : 'SERVER_UNAVAILABLE';
      return {
        status,
        headers: withLimit(retryAfter),
        body: [{ message: 'The server is temporarily unavailable. Try again later.', errorCode }],
      };
    },
  };
}
