import { sobjectUrl } from '../present.ts';
import type { StoredRecord } from '../store.ts';
import { normalize } from './compare.ts';
import type { Accessor, CompiledQuery } from './compile.ts';

/** What evaluation reads from the store. */
export type RecordSource = {
  records(includeDeleted: boolean): StoredRecord[];
  byId(id: string): StoredRecord | undefined;
};

export type Evaluation = { totalSize: number; records: Record<string, unknown>[] };

/**
 * Runs a compiled query: filter, sort, offset, limit, then shape each row as the REST API does,
 * `attributes` first and parent fields nested under the relationship name.
 */
export function evaluateQuery(
  query: CompiledQuery,
  source: RecordSource,
  options: { includeDeleted: boolean; apiVersion: string },
): Evaluation {
  const rowOf = (record: StoredRecord) => (accessor: Accessor) => {
    if (!accessor.via) return record[accessor.field.name];
    const parent = parentOf(record, accessor, source);
    return parent ? parent[accessor.field.name] : null;
  };
  let matched = source.records(options.includeDeleted);
  if (query.where) {
    const where = query.where;
    matched = matched.filter((record) => where(rowOf(record)));
  }
  if (query.orderBy.length > 0) matched = sortRecords(matched, query, rowOf);
  const offset = query.offset ?? 0;
  const limited = matched.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  if (query.count) return { totalSize: limited.length, records: [] };
  return {
    totalSize: limited.length,
    records: limited.map((record) => project(record, query, source, options.apiVersion)),
  };
}

function parentOf(record: StoredRecord, accessor: Accessor, source: RecordSource): StoredRecord | undefined {
  const id = record[accessor.via!.reference.name];
  const parent = typeof id === 'string' ? source.byId(id) : undefined;
  // a parent in the recycle bin reads as no parent, as in Salesforce
  return parent && !parent.IsDeleted ? parent : undefined;
}

function sortRecords(
  records: StoredRecord[],
  query: CompiledQuery,
  rowOf: (record: StoredRecord) => (accessor: Accessor) => unknown,
): StoredRecord[] {
  const keyed = records.map((record, index) => {
    const row = rowOf(record);
    return { record, index, keys: query.orderBy.map((o) => row(o.accessor)) };
  });
  keyed.sort((a, b) => {
    for (const [i, order] of query.orderBy.entries()) {
      const x = a.keys[i];
      const y = b.keys[i];
      if (x == null || y == null) {
        if (x == null && y == null) continue;
        return (x == null) === order.nullsLast ? 1 : -1;
      }
      const nx = normalize(order.accessor.field, x) as number | string | boolean;
      const ny = normalize(order.accessor.field, y) as number | string | boolean;
      if (nx === ny) continue;
      return (nx < ny ? -1 : 1) * (order.descending ? -1 : 1);
    }
    // ties keep creation order, which is what a caller without ORDER BY sees too
    return a.index - b.index;
  });
  return keyed.map((k) => k.record);
}

function project(
  record: StoredRecord,
  query: CompiledQuery,
  source: RecordSource,
  apiVersion: string,
): Record<string, unknown> {
  const attributes = (type: string, id: unknown) => ({ type, url: sobjectUrl(apiVersion, type, String(id)) });
  const out: Record<string, unknown> = { attributes: attributes(query.object.name, record.Id) };
  for (const accessor of query.fields) {
    if (!accessor.via) {
      out[accessor.field.name] = record[accessor.field.name];
      continue;
    }
    const name = accessor.via.reference.relationshipName!;
    const parent = parentOf(record, accessor, source);
    if (!parent) {
      out[name] = null;
      continue;
    }
    const nested = (out[name] as Record<string, unknown> | undefined) ?? {
      attributes: attributes(accessor.via.target.name, parent.Id),
    };
    nested[accessor.field.name] = parent[accessor.field.name];
    out[name] = nested;
  }
  return out;
}
