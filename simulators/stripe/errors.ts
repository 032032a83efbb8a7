/** Stripe's error types; the official SDK picks its error class from the status and this type. */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

/** The body Stripe answers inside `{"error": …}`. */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  // card errors on a payment carry the objects involved, as Stripe's do
  payment_intent?: unknown;
  payment_method?: unknown;
}

/**
 * An answer in Stripe's own error shape with its HTTP status; the HTTP layer sends `toResponse()`.
 * `saveIdempotent` tells the idempotency layer whether Stripe would keep this result for the key:
 * it keeps results of requests that started executing (a decline), not of rejected parameters.
 */
export class StripeError extends Error {
  readonly statusCode: number;
  readonly body: StripeErrorBody;
  readonly saveIdempotent: boolean;

  constructor(statusCode: number, body: StripeErrorBody, saveIdempotent = statusCode !== 400) {
    super(body.message);
    this.name = 'StripeError';
    this.statusCode = statusCode;
    this.body = body;
    this.saveIdempotent = saveIdempotent;
  }

  get code(): string | undefined {
    return this.body.code;
  }

  get type(): StripeErrorType {
    return this.body.type;
  }

  toResponse(): { status: number; body: { error: StripeErrorBody } } {
    return { status: this.statusCode, body: { error: structuredClone(this.body) } };
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;

/** 400 invalid_request_error for a bad or impossible parameter. */
export function invalidRequest(message: string, param?: string, code?: string): StripeError {
  return new StripeError(400, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}

export const missingParam = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');

/**
 * `No such customer: 'cus_x'`: 404 when the id is the request's path, 400 when a parameter names
 * an object that does not exist (as Stripe answers both).
 */
export function noSuch(kind: string, id: string, param = 'id'): StripeError {
  const error = invalidRequest(`No such ${kind}: '${id}'`, param, 'resource_missing');
  return param === 'id' ? new StripeError(404, error.body, false) : error;
}

/** An operation the object's state does not allow (for example paying a void invoice). */
export const invalidState = (message: string, param?: string) => invalidRequest(message, param);

/** 402 card_error: a decline, an expired card, a wrong number. */
export function cardError(
  code: string,
  message: string,
  extra: { decline_code?: string; param?: string; payment_intent?: unknown; payment_method?: unknown } = {},
): StripeError {
  return new StripeError(402, { type: 'card_error', code, message, doc_url: docUrl(code), ...extra });
}

export function idempotencyMismatch(key: string, detail?: string): StripeError {
  const what = detail ?? 'can only be used with the same parameters they were first used with';
  return new StripeError(
    400,
    {
      type: 'idempotency_error',
      message: `Keys for idempotent requests ${what}. Try using a key other than '${key}' if you meant to execute a different request.`,
    },
    false,
  );
}

export function idempotencyKeyInUse(key: string): StripeError {
  return new StripeError(
    409,
    {
      type: 'invalid_request_error',
      code: 'idempotency_key_in_use',
      doc_url: docUrl('idempotency_key_in_use'),
      message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): '${key}'. Please try again later.`,
    },
    false,
  );
}

/** A request that would never finish (a clock advance that does not converge): our bug, not the caller's. */
export const apiError = (message: string) => new StripeError(500, { type: 'api_error', message });
