/** An error a Planewright user can act on: a stable code, what happened, and the next step. */
export class PlanewrightError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string) {
    super(hint ? `${code}: ${message}; ${hint}` : `${code}: ${message}`);
    this.name = 'PlanewrightError';
    this.code = code;
    this.hint = hint;
  }
}
