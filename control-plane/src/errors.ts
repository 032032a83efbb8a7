/** An error answered to the client as `{"error":{"code","message","details"?,"requestId"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError(400, 'bad_request', message, details);
export const unauthorized = (message = 'a valid bearer token or API key is required') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
/** Also the answer for another tenant's object: it must look exactly like one that does not exist. */
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown) =>
  new ApiError(409, 'conflict', message, details);
export const gone = (message: string) => new ApiError(410, 'gone', message);

/** Postgres error codes that mean the client asked for something impossible, not that we failed. */
export function apiErrorFromPg(error: unknown): ApiError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === '23505') return conflict('an object with these unique values already exists');
  if (code === '23503') return badRequest('a referenced object does not exist');
  if (code === '22P02' || code === '22023') return badRequest('a value has the wrong format');
  if (code === '54000' || code === '22001') return badRequest('a value is too long');
  // NUL in text (22021) or in JSON text (22P05): Postgres cannot store it
  if (code === '22021' || code === '22P05')
    return badRequest('a value contains a character that cannot be stored (NUL)');
  return undefined;
}
