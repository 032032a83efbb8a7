// Toxiproxy's errors: the HTTP status and the message its API answers with, as
// `{"error": message, "status": status}`. The same object is thrown in-process, where it is a
// PlanewrightError with a stable code.
import { PlanewrightError } from '../../errors.ts';

const codes: Record<number, string> = {
  400: 'PW_FAULT_PROXY_BAD_REQUEST',
  404: 'PW_FAULT_PROXY_NOT_FOUND',
  409: 'PW_FAULT_PROXY_CONFLICT',
  413: 'PW_FAULT_PROXY_BAD_REQUEST',
};

/** An error of the fault proxy's API: `status` and `apiMessage` are what Toxiproxy would answer. */
export class FaultProxyApiError extends PlanewrightError {
  readonly status: number;
  readonly apiMessage: string;

  constructor(status: number, apiMessage: string, hint?: string) {
    super(codes[status] ?? 'PW_FAULT_PROXY_ERROR', apiMessage, hint);
    this.name = 'FaultProxyApiError';
    this.status = status;
    this.apiMessage = apiMessage;
  }

  /** Toxiproxy's error body (Go's http.Error ends it with a newline). */
  body(): string {
    return `${JSON.stringify({ error: this.apiMessage, status: this.status })}\n`;
  }
}

// Toxiproxy's own messages (api.go), so a client matching on them behaves the same
export const badRequestBody = (detail: string) => new FaultProxyApiError(400, `bad request body: ${detail}`);
export const missingField = (field: string) =>
  new FaultProxyApiError(400, `missing required field: ${field}`);
export const proxyNotFound = () => new FaultProxyApiError(404, 'proxy not found');
export const proxyAlreadyExists = () =>
  new FaultProxyApiError(409, 'proxy already exists', 'delete it first, or POST /populate to replace it');
export const invalidStream = () =>
  new FaultProxyApiError(400, 'stream was invalid, can be either upstream or downstream');
export const invalidToxicType = () => new FaultProxyApiError(400, 'invalid toxic type');
export const toxicAlreadyExists = () =>
  new FaultProxyApiError(409, 'toxic already exists', 'update it with POST, or delete it first');
export const toxicNotFound = () => new FaultProxyApiError(404, 'toxic not found');
