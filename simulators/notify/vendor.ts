// The vendors' own error answers, so an injected fault reads to each SDK as the real failure
// would: SendGrid's `{errors: [{message, field, help}]}` under /v3, Twilio's
// `{code, message, more_info, status}` under /2010-04-01 (429 is Twilio's code 20429).
import type { Request } from 'express';
import type { VendorResponse, VendorResponses } from '../kit/index.ts';

export interface SendgridError {
  message: string;
  field?: string | null;
  help?: string | null;
}

/** SendGrid's error body. */
export function sendgridErrors(errors: SendgridError[]) {
  return {
    errors: errors.map(({ message, field, help }) => ({ message, field: field ?? null, help: help ?? null })),
  };
}

/** Twilio's error body. */
export function twilioError(status: number, code: number, message: string, detail?: string) {
  return {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
    ...(detail ? { detail } : {}),
  };
}

const isTwilioRequest = (req: Request) => req.path.startsWith('/2010-04-01/');

// Twilio numbers its HTTP-level errors 20000 + status (20404, 20429, 20500, 20503); 401 is 20003
const twilioCodeFor = (status: number) => (status === 401 ? 20003 : 20_000 + status);

export const notifyVendorResponses: VendorResponses = {
  error(status, message, req): VendorResponse {
    if (isTwilioRequest(req)) return { body: twilioError(status, twilioCodeFor(status), message) };
    return { body: sendgridErrors([{ message }]) };
  },
  throttle(req, { retryAfterS }): VendorResponse {
    if (isTwilioRequest(req)) {
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfterS) },
        body: twilioError(429, 20429, 'Too Many Requests'),
      };
    }
    // SendGrid says when the limit resets (epoch seconds), not how long to wait
    const resetS = Math.ceil(Date.now() / 1000 + retryAfterS);
    return {
      status: 429,
      headers: {
        'x-ratelimit-limit': '600',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(resetS),
      },
      body: sendgridErrors([{ message: 'too many requests' }]),
    };
  },
  outage(req, { status, retryAfterS }): VendorResponse {
    const headers = { 'retry-after': String(retryAfterS) };
    if (isTwilioRequest(req)) {
      return { status, headers, body: twilioError(status, twilioCodeFor(status), 'Service Unavailable') };
    }
    return { status, headers, body: sendgridErrors([{ message: 'Service Unavailable' }]) };
  },
};
