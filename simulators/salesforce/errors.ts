/** One entry of the error array Salesforce's REST API answers with. */
export type SalesforceErrorItem = { message: string; errorCode: string; fields?: string[] };

/**
 * An error the simulated org answers with: an HTTP status and Salesforce's own error array, so
 * jsforce and other clients see exactly what the real API sends (`[{message, errorCode, fields}]`).
 */
export class SalesforceError extends Error {
  readonly status: number;
  readonly errors: SalesforceErrorItem[];

  constructor(status: number, errors: SalesforceErrorItem[]) {
    super(errors.map((e) => `${e.errorCode}: ${e.message}`).join('; '));
    this.name = 'SalesforceError';
    this.status = status;
    this.errors = errors;
  }

  /** The first error's code: what clients such as jsforce surface as `errorCode`. */
  get errorCode(): string {
    return this.errors[0]?.errorCode ?? 'UNKNOWN_EXCEPTION';
  }

  /** The response body, as Salesforce sends it. */
  toBody(): SalesforceErrorItem[] {
    return this.errors.map((e) => ({ ...e }));
  }
}

const one = (status: number, errorCode: string, message: string, fields?: string[]) =>
  new SalesforceError(status, [fields ? { message, errorCode, fields } : { message, errorCode }]);

export const notFound = (message = 'The requested resource does not exist') => one(404, 'NOT_FOUND', message);
export const entityIsDeleted = () => one(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
export const invalidSession = () => one(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
export const requestLimitExceeded = () => one(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
export const jsonParserError = (message: string) => one(400, 'JSON_PARSER_ERROR', message);
export const malformedQuery = (message: string) => one(400, 'MALFORMED_QUERY', message);
export const invalidQueryFilter = (message: string) => one(400, 'INVALID_QUERY_FILTER_OPERATOR', message);
export const invalidQueryLocator = () => one(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
export const invalidType = (message: string) => one(400, 'INVALID_TYPE', message);
export const invalidField = (message: string, fields?: string[]) =>
  one(400, 'INVALID_FIELD', message, fields);

export const requiredFieldMissing = (fields: string[]) =>
  one(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${fields.join(', ')}]`, fields);

export const notWritable = (fields: string[]) =>
  one(
    400,
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${fields.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    fields,
  );

export const invalidTypeOnField = (field: string, label: string, value: unknown) =>
  one(400, 'INVALID_TYPE_ON_FIELD_IN_RECORD', `${label}: value not of required type: ${String(value)}`, [
    field,
  ]);

/** The error for any field-level failure that carries the field's name (bad id, bad email, too long). */
export const fieldError = (errorCode: string, field: string, message: string) =>
  one(400, errorCode, message, [field]);

/**
 * An error of the OAuth token and revoke endpoints, which do not use the error array but
 * `{error, error_description}` (for example `invalid_grant` / `authentication failure`).
 */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly errorDescription: string;

  constructor(status: number, error: string, errorDescription: string) {
    super(`${error}: ${errorDescription}`);
    this.name = 'OAuthError';
    this.status = status;
    this.error = error;
    this.errorDescription = errorDescription;
  }

  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.errorDescription };
  }
}
