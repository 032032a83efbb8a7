// SLOs declared in a file (YAML, or JSON, which YAML reads too): the same fields as defineSlo,
// with span matchers written as a name (`*` matches any run of characters) or an object.
//
//   slos:
//     - name: activate step
//       flow: create-api-key
//       from: { step: activate }
//       percentile: { p: 99, max: 250 }
//     - name: key created, end to end
//       flow: create-api-key
//       from: "POST /v1/orgs/*"
//       to: { step: audit }
//       max: 2000
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { PlanewrightError } from '../errors.ts';
import { defineSlo, type Slo } from './slo.ts';
import { spanKinds, statusCodes } from './span.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const matcherSchema = z.union([
  z.string().min(1),
  z
    .strictObject({
      name: z.string().optional(),
      service: z.string().optional(),
      kind: z.enum(spanKinds as [string, ...string[]]).optional(),
      status: z.enum(statusCodes as [string, ...string[]]).optional(),
      flow: z.string().optional(),
      step: z.string().optional(),
      attributes: z.record(z.string(), z.union([scalar, z.array(scalar)])).optional(),
    })
    .refine((value) => Object.keys(value).length > 0, 'give at least one field to match'),
]);
const sloSchema = z.strictObject({
  name: z.string().min(1),
  flow: z.string().min(1).optional(),
  from: matcherSchema,
  to: matcherSchema.optional(),
  max: z.number().nonnegative().optional(),
  percentile: z.strictObject({ p: z.number().gt(0).lte(100), max: z.number().nonnegative() }).optional(),
});
const fileSchema = z.union([z.strictObject({ slos: z.array(sloSchema) }), z.array(sloSchema)]);

/** Parses SLOs from YAML or JSON text; `source` names it in errors. */
export function parseSlos(text: string, source = 'SLO file'): Slo[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw invalid(`${source} is not YAML or JSON: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.join('.') : '(top)'}: ${issue.message}`,
    );
    throw invalid(`${source}: ${problems.join('; ')}`);
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.slos;
  const names = new Set<string>();
  return list.map((definition) => {
    if (names.has(definition.name)) throw invalid(`${source}: two SLOs are named ${definition.name}`);
    names.add(definition.name);
    return defineSlo(definition as Parameters<typeof defineSlo>[0]);
  });
}

/** Reads SLOs from a .yaml, .yml or .json file. */
export async function loadSlos(path: string): Promise<Slo[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PlanewrightError(
      'PW_SLO_FILE_UNREADABLE',
      `cannot read ${path}: ${(error as Error).message}`,
      'check the path',
    );
  }
  return parseSlos(text, path);
}

function invalid(message: string): PlanewrightError {
  return new PlanewrightError('PW_SLO_INVALID', message, 'see docs/traces.md for the SLO file format');
}
