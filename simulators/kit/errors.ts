/**
 * An error a simulator's user can act on: a stable code, what happened, and the next step. The
 * kit keeps its own class (simulators never import the harness); it has the same shape as the
 * harness's PlanewrightError, so the CLI prints both the same way.
 */
export class SimulatorError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string) {
    super(hint ? `${code}: ${message}; ${hint}` : `${code}: ${message}`);
    this.name = 'SimulatorError';
    this.code = code;
    this.hint = hint;
  }
}
