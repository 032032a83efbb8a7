import type { Clock } from '../clock.ts';
import type { Schema } from '../schema.ts';
import type { Store } from '../store.ts';
import { compileQuery } from './compile.ts';
import type { QueryCursors, QueryPage } from './cursors.ts';
import { evaluateQuery } from './evaluate.ts';
import { parseSoql } from './parser.ts';

export type QueryOptions = {
  /** e.g. '62.0': used in `attributes.url` and `nextRecordsUrl`. */
  apiVersion: string;
  /** queryAll: records in the recycle bin too. */
  includeDeleted?: boolean;
  /** From `Sforce-Query-Options: batchSize=N`; the cursors' default otherwise. */
  batchSize?: number;
};

export type QueryDeps = { schema: Schema; store: Store; clock: Clock; cursors: QueryCursors };

/**
 * `GET /query?q=…`: parse, check, evaluate and page one SOQL query.
 * @example runQuery(deps, 'SELECT Id, Name FROM Account ORDER BY Name LIMIT 5', { apiVersion: '62.0' })
 */
export function runQuery(deps: QueryDeps, soql: string, options: QueryOptions): QueryPage {
  const includeDeleted = options.includeDeleted ?? false;
  const compiled = compileQuery(deps.schema, soql, parseSoql(soql), deps.clock.now());
  const result = evaluateQuery(
    compiled,
    { records: (all) => deps.store.records(compiled.object, { includeDeleted: all }), byId: deps.store.byId },
    { includeDeleted, apiVersion: options.apiVersion },
  );
  if (compiled.count) return { totalSize: result.totalSize, done: true, records: [] };
  return deps.cursors.firstPage(result.records, options.apiVersion, options.batchSize);
}
