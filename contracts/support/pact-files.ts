// The committed pacts are the contract: the provider verifies them, and each consumer test writes
// its pact to a temporary folder and fails unless the result equals the committed file. So both
// sides run at once (vitest runs files in parallel) and neither waits for the other; a change of
// the consumer's expectations is a reviewed change of contracts/pacts/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, expect } from 'vitest';
import { pactsDir } from './participants.ts';

/** `PACT_UPDATE=1`: the consumer tests write their pacts into contracts/pacts/ instead of comparing. */
export const updatingPacts = process.env.PACT_UPDATE === '1';

const updateHint = (file: string) =>
  `If the change is intended, run \`PACT_UPDATE=1 npx vitest run contracts/consumer\`, review the ` +
  `diff of contracts/pacts/${file}, and run \`npx vitest run contracts/provider\` to check that the ` +
  'control plane honours the new contract.';

/**
 * A fresh folder for one consumer test file's generated pact, and a count of the file's failed
 * tests: Pact leaves a failed interaction out of the pact it writes, so a pact written by a run
 * with failures is incomplete and must neither replace nor be compared with the committed one.
 */
export function generatedPact(): { dir: string; failedTests(): number; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'planewright-pact-'));
  let failed = 0;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed += 1;
    });
  });
  return { dir, failedTests: () => failed, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Compares the pact the consumer test generated with the committed one (or replaces the committed
 * one under PACT_UPDATE=1). The library versions in `metadata` are left out of the comparison: a
 * Pact upgrade alone does not change the contract.
 */
export function checkGeneratedPact(generated: { dir: string; failedTests(): number }, file: string): void {
  if (generated.failedTests() > 0) {
    throw new Error(
      `PW_PACT_INCOMPLETE: ${generated.failedTests()} test(s) of this file failed, so the pact it wrote ` +
        `lacks their interactions; contracts/pacts/${file} was left as it is. Fix them first.`,
    );
  }
  const generatedText = readPact(
    path.join(generated.dir, file),
    'PW_PACT_NOT_WRITTEN',
    () => 'the consumer test wrote no pact: did every interaction pass?',
  );
  const committedPath = path.join(pactsDir, file);
  if (updatingPacts) {
    writeFileSync(committedPath, generatedText.endsWith('\n') ? generatedText : `${generatedText}\n`);
    return;
  }
  const committedText = readPact(
    committedPath,
    'PW_PACT_MISSING',
    () => `contracts/pacts/${file} is missing. ${updateHint(file)}`,
  );
  expect(
    comparable(JSON.parse(generatedText)),
    `PW_PACT_CHANGED: the consumer's expectations differ from the committed contracts/pacts/${file}. ${updateHint(file)}`,
  ).toEqual(comparable(JSON.parse(committedText)));
}

function readPact(file: string, code: string, explain: () => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${code}: ${explain()}`);
  }
}

function comparable(pact: { metadata?: Record<string, unknown> }) {
  const { 'pact-js': _js, pactRust: _rust, ...metadata } = pact.metadata ?? {};
  return { ...pact, metadata };
}
