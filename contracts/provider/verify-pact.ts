// Runs Pact's verifier and turns its failure (a JSON report as the error message) into one line per
// broken interaction: which one, and what differed. Pact prints the full diff above it.
import { Verifier, type VerifierOptions } from '@pact-foundation/pact';

interface VerificationReport {
  errors?: { interaction: string; mismatch?: { mismatches?: { mismatch?: string }[] } }[];
}

/** Verifies one committed pact file; rejects with `PW_CONTRACT_BROKEN` and a summary on any mismatch. */
export async function verifyPact(pactFile: string, options: VerifierOptions): Promise<void> {
  try {
    await new Verifier({
      ...options,
      pactUrls: [pactFile],
      logLevel: options.logLevel ?? 'warn',
    }).verifyProvider();
  } catch (error) {
    const report = parseReport((error as Error).message);
    if (!report?.errors?.length) throw error;
    const lines = report.errors.map(({ interaction, mismatch }) => {
      const what = (mismatch?.mismatches ?? []).map((m) => m.mismatch).filter(Boolean);
      return `  - ${interaction}${what.length ? `: ${what.join('; ')}` : ''}`;
    });
    throw new Error(
      `PW_CONTRACT_BROKEN: the provider breaks ${lines.length} interaction(s) of ${pactFile}:\n${lines.join('\n')}\n` +
        'Either the provider changed (restore what the consumer relies on), or the consumer expects something ' +
        'new (then the provider must implement it before the pact is updated).',
      { cause: error },
    );
  }
}

function parseReport(message: string): VerificationReport | undefined {
  try {
    return JSON.parse(message) as VerificationReport;
  } catch {
    return undefined;
  }
}
