import { jsonParserError, SalesforceError } from './errors.ts';
import type { ApiResponse } from './present.ts';
import type { Transaction } from './store.ts';

export type Subrequest = {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  referenceId: string;
  body?: unknown;
  httpHeaders?: Record<string, string>;
};

export type CompositeSubresponse = {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
};

/**
 * Runs one subrequest as if it had come over HTTP (the HTTP layer plugs in its router). It must not
 * charge the daily API allowance: a composite request counts as one call, however many it holds.
 */
export type ExecuteSubrequest = (
  request: Omit<Subrequest, 'referenceId'>,
) => Promise<ApiResponse> | ApiResponse;

export type CompositeDeps = { execute: ExecuteSubrequest; beginTransaction: () => Transaction };

const maxSubrequests = 25;
const methods = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
const referencePattern = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;
const rolledBack = 'The transaction was rolled back since another operation in the same transaction failed.';

const halted = (referenceId: string, message: string): CompositeSubresponse => ({
  body: [{ errorCode: 'PROCESSING_HALTED', message }],
  httpHeaders: {},
  httpStatusCode: 400,
  referenceId,
});

/**
 * `POST /composite`: subrequests run in order; `@{ref.field}` and `@{ref.records[0].Id}` in a later
 * url or body read an earlier result. With allOrNone, the first failure rolls every write back and
 * every other subrequest answers PROCESSING_HALTED; without it, only subrequests that reference a
 * failed one are halted. The top level is 200 either way, as in Salesforce.
 */
export async function runComposite(
  deps: CompositeDeps,
  request: unknown,
): Promise<{ compositeResponse: CompositeSubresponse[] }> {
  const { allOrNone, subrequests } = parseCompositeRequest(request);
  const results = new Map<string, unknown>();
  const responses: CompositeSubresponse[] = [];
  const transaction = allOrNone ? deps.beginTransaction() : undefined;
  let failedIndex = -1;
  for (const sub of subrequests) {
    if (failedIndex >= 0) {
      responses.push(halted(sub.referenceId, rolledBack));
      continue;
    }
    let response: CompositeSubresponse;
    try {
      const url = resolveReferences(decodeReferences(sub.url), results, true) as string;
      const body = resolveReferences(sub.body, results, false);
      const answer = await runOne(deps.execute, {
        method: sub.method,
        url,
        body,
        httpHeaders: sub.httpHeaders,
      });
      response = {
        body: answer.body ?? null,
        httpHeaders: answer.headers ?? {},
        httpStatusCode: answer.status,
        referenceId: sub.referenceId,
      };
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      response = halted(sub.referenceId, error.message);
    }
    responses.push(response);
    if (response.httpStatusCode < 400) results.set(sub.referenceId, response.body);
    else if (allOrNone) failedIndex = responses.length - 1;
  }
  if (transaction && failedIndex >= 0) {
    transaction.rollback();
    return {
      compositeResponse: responses.map((r, i) => (i === failedIndex ? r : halted(r.referenceId, rolledBack))),
    };
  }
  transaction?.commit();
  return { compositeResponse: responses };
}

async function runOne(
  execute: ExecuteSubrequest,
  request: Omit<Subrequest, 'referenceId'>,
): Promise<ApiResponse> {
  try {
    return await execute(request);
  } catch (error) {
    if (error instanceof SalesforceError) return { status: error.status, body: error.toBody() };
    throw error;
  }
}

/** Checks the request's shape; a malformed one fails as a whole with 400, before anything runs. */
export function parseCompositeRequest(request: unknown): { allOrNone: boolean; subrequests: Subrequest[] } {
  const input = request as { allOrNone?: unknown; compositeRequest?: unknown } | null;
  if (typeof input !== 'object' || input === null || !Array.isArray(input.compositeRequest)) {
    throw jsonParserError('compositeRequest: a list of subrequests is required');
  }
  if (input.compositeRequest.length === 0 || input.compositeRequest.length > maxSubrequests) {
    throw jsonParserError(`compositeRequest: between 1 and ${maxSubrequests} subrequests are allowed`);
  }
  const seen = new Set<string>();
  const subrequests = input.compositeRequest.map((raw, index) => {
    const sub = raw as Partial<Subrequest> | null;
    const where = `compositeRequest[${index}]`;
    if (!sub || typeof sub.method !== 'string' || !methods.has(sub.method)) {
      throw jsonParserError(`${where}.method: one of ${[...methods].join(', ')} is required`);
    }
    if (typeof sub.url !== 'string' || !sub.url.startsWith('/services/data/')) {
      throw jsonParserError(`${where}.url: a path starting with /services/data/ is required`);
    }
    if (typeof sub.referenceId !== 'string' || !/^[A-Za-z0-9_]+$/.test(sub.referenceId)) {
      throw jsonParserError(`${where}.referenceId: letters, digits and underscores are required`);
    }
    if (seen.has(sub.referenceId))
      throw jsonParserError(`Duplicate referenceId provided in the request: ${sub.referenceId}`);
    seen.add(sub.referenceId);
    const forbidden = Object.keys(sub.httpHeaders ?? {}).find((h) =>
      ['accept', 'authorization', 'content-type'].includes(h.toLowerCase()),
    );
    if (forbidden)
      throw jsonParserError(`${where}.httpHeaders: ${forbidden} is inherited from the composite request`);
    return sub as Subrequest;
  });
  return { allOrNone: input.allOrNone === true, subrequests };
}

/** A reference to a subrequest that failed or never ran: only that subrequest is halted. */
class UnresolvedReference extends Error {
  readonly errorCode = 'PROCESSING_HALTED';

  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedReference';
  }
}

/**
 * A url whose query a client percent-encoded whole (`encodeURIComponent(soql)`) carries its
 * references as `%40%7Bref.id%7D`; they are read as `@{ref.id}`, as the writer meant.
 */
function decodeReferences(url: string): string {
  return url.replace(/%40%7B([A-Za-z0-9_.%]+?)%7D/gi, (whole, inner: string) => {
    try {
      return `@{${decodeURIComponent(inner)}}`;
    } catch {
      return whole;
    }
  });
}

/** Replaces references in a url (always as text) or a body (a lone reference keeps its JSON type). */
function resolveReferences(value: unknown, results: Map<string, unknown>, inUrl: boolean): unknown {
  if (typeof value === 'string') {
    const lone = !inUrl && value.match(referencePattern)?.[0] === value;
    if (lone) return lookup(value, results);
    return value.replace(referencePattern, (ref) => String(lookup(ref, results)));
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, results, false));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveReferences(v, results, false)]),
    );
  }
  return value;
}

function lookup(reference: string, results: Map<string, unknown>): unknown {
  const [, referenceId, path] = new RegExp(referencePattern.source).exec(reference)!;
  const steps = [...path!.matchAll(/\.([A-Za-z0-9_]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  let current: unknown = results.get(referenceId!);
  for (const step of steps) {
    current = current == null ? undefined : (current as Record<string | number, unknown>)[step];
  }
  if (current === undefined || !results.has(referenceId!)) {
    const expression = reference.slice(2, -1);
    throw new UnresolvedReference(
      `Invalid reference specified. No value for ${expression} found in ${referenceId}. Provided referenceId ('${referenceId}') is invalid.`,
    );
  }
  return current;
}
