import { type Clock, toSalesforceDateTime } from './clock.ts';
import { entityIsDeleted, invalidField, notFound } from './errors.ts';
import { createIdGenerator, type IdGenerator, normalizeId } from './ids.ts';
import type { Schema, SObjectDef } from './schema.ts';
import { validateWrite } from './validate.ts';

/** A stored record: every field of its object under its canonical name, null when empty. */
export type StoredRecord = Readonly<Record<string, unknown>>;

export type StoreOptions = {
  schema: Schema;
  clock: Clock;
  /** Owner and audit user of writes that name no user (an 18-character 005… id). */
  defaultUserId: string;
  /** Default: a deterministic counter per key prefix. */
  ids?: IdGenerator;
};

export type WriteOptions = { userId?: string };

export type UpsertResult =
  | { outcome: 'created' | 'updated'; id: string }
  /** More than one record has the external id: nothing was written (HTTP 300). */
  | { outcome: 'multiple'; ids: string[] };

export type Transaction = { commit(): void; rollback(): void };

export type Store = ReturnType<typeof createStore>;

/** The org's records, in memory: one Map per object, in creation order, deleted records kept as IsDeleted. */
export function createStore(options: StoreOptions) {
  const { schema, clock, defaultUserId } = options;
  const ids = options.ids ?? createIdGenerator();
  const tables = new Map<SObjectDef, Map<string, StoredRecord>>(schema.objects().map((o) => [o, new Map()]));
  const autoNumbers = new Map<string, number>();
  // one undo log per open transaction; composite allOrNone rolls back through it
  const undoLogs: Array<Array<() => void>> = [];

  const objectOf = (type: string): SObjectDef => {
    const object = schema.object(type);
    if (!object) throw notFound();
    return object;
  };
  const tableOf = (object: SObjectDef) => tables.get(object)!;
  const byId = (id: string): StoredRecord | undefined => {
    const object = schema.objectForId(id);
    return object ? tableOf(object).get(id) : undefined;
  };
  const referenceExists = (id: string) => byId(id)?.IsDeleted === false;

  function write(object: SObjectDef, record: Record<string, unknown>): void {
    object.derive?.(record);
    const table = tableOf(object);
    const id = record.Id as string;
    const previous = table.get(id);
    undoLogs.at(-1)?.push(() => (previous ? table.set(id, previous) : table.delete(id)));
    table.set(id, Object.freeze(record));
  }

  function live(type: string, id: string): { object: SObjectDef; record: StoredRecord } {
    const object = objectOf(type);
    const key = normalizeId(id);
    const record = key ? tableOf(object).get(key) : undefined;
    if (!record) throw notFound();
    if (record.IsDeleted) throw entityIsDeleted();
    return { object, record };
  }

  function nextAutoNumber(object: SObjectDef, field: string): string {
    const key = `${object.name}.${field}`;
    const n = (autoNumbers.get(key) ?? 1000) + 1;
    autoNumbers.set(key, n);
    return String(n).padStart(8, '0');
  }

  function insert(object: SObjectDef, values: Record<string, unknown>, userId: string): string {
    const now = toSalesforceDateTime(clock.now());
    const record: Record<string, unknown> = {};
    for (const field of object.fields) {
      record[field.name] = field.autoNumber
        ? nextAutoNumber(object, field.name)
        : (field.defaultValue ?? null);
    }
    const id = ids.next(object.keyPrefix);
    Object.assign(record, values, {
      Id: id,
      IsDeleted: false,
      OwnerId: values.OwnerId ?? userId,
      CreatedDate: now,
      CreatedById: userId,
      LastModifiedDate: now,
      LastModifiedById: userId,
      SystemModstamp: now,
    });
    write(object, record);
    return id;
  }

  function modify(object: SObjectDef, record: StoredRecord, values: Record<string, unknown>, userId: string) {
    const now = toSalesforceDateTime(clock.now());
    write(object, {
      ...record,
      ...values,
      LastModifiedDate: now,
      LastModifiedById: userId,
      SystemModstamp: now,
    });
  }

  /** Live records whose external id field equals `value` (case-insensitive, as text external ids are). */
  function findByExternalId(type: string, fieldName: string, value: string): StoredRecord[] {
    const object = objectOf(type);
    const field = schema.field(object, fieldName);
    if (!field?.externalId) {
      throw notFound(`Provided external ID field does not exist or is not accessible: ${fieldName}`);
    }
    const wanted = value.toLowerCase();
    return [...tableOf(object).values()].filter(
      (r) =>
        !r.IsDeleted &&
        typeof r[field.name] === 'string' &&
        (r[field.name] as string).toLowerCase() === wanted,
    );
  }

  return {
    schema,

    /** Creates a record from a request body; returns its id. */
    create(type: string, body: unknown, opts: WriteOptions = {}): string {
      const object = objectOf(type);
      return insert(
        object,
        validateWrite(schema, object, body, 'create', referenceExists),
        opts.userId ?? defaultUserId,
      );
    },

    /** A copy of a live record, limited to `fields` when given (INVALID_FIELD for an unknown one). */
    retrieve(type: string, id: string, fields?: string[]): Record<string, unknown> {
      const { object, record } = live(type, id);
      if (!fields) return { ...record };
      const out: Record<string, unknown> = {};
      for (const name of fields) {
        const field = schema.field(object, name);
        if (!field) throw invalidField(`No such column '${name}' on entity '${object.name}'`);
        out[field.name] = record[field.name];
      }
      return out;
    },

    /** PATCH semantics: only the fields in the body change. */
    update(type: string, id: string, body: unknown, opts: WriteOptions = {}): void {
      const { object, record } = live(type, id);
      modify(
        object,
        record,
        validateWrite(schema, object, body, 'update', referenceExists),
        opts.userId ?? defaultUserId,
      );
    },

    /** Moves the record to the recycle bin: gone for query, still there for queryAll. */
    delete(type: string, id: string, opts: WriteOptions = {}): void {
      const { object, record } = live(type, id);
      modify(object, record, { IsDeleted: true }, opts.userId ?? defaultUserId);
    },

    findByExternalId,

    /** Creates or updates by external id; several matches write nothing. */
    upsert(
      type: string,
      fieldName: string,
      value: string,
      body: unknown,
      opts: WriteOptions = {},
    ): UpsertResult {
      const object = objectOf(type);
      const field = schema.field(object, fieldName);
      // the upsert resource answers a wrong field with the plain NOT_FOUND (the retrieve one names the field)
      if (!field?.externalId) throw notFound();
      const matches = findByExternalId(type, fieldName, value);
      if (matches.length > 1) return { outcome: 'multiple', ids: matches.map((r) => r.Id as string) };
      const userId = opts.userId ?? defaultUserId;
      const existing = matches[0];
      const values = validateWrite(schema, object, body, existing ? 'update' : 'create', referenceExists);
      if (field.name in values && String(values[field.name]).toLowerCase() !== value.toLowerCase()) {
        throw invalidField(`${field.name}: the body's value does not match the external id in the URL`, [
          field.name,
        ]);
      }
      if (existing) {
        modify(object, existing, values, userId);
        return { outcome: 'updated', id: existing.Id as string };
      }
      return { outcome: 'created', id: insert(object, { ...values, [field.name]: value }, userId) };
    },

    /** The stored records of one object, in creation order; read-only views, not copies. */
    records(object: SObjectDef, { includeDeleted = false } = {}): StoredRecord[] {
      const all = [...tableOf(object).values()];
      return includeDeleted ? all : all.filter((r) => !r.IsDeleted);
    },

    /** Any stored record by id (deleted ones too): used to follow relationships. */
    byId,

    /** Writes from here on can be undone together (composite allOrNone). */
    beginTransaction(): Transaction {
      const log: Array<() => void> = [];
      undoLogs.push(log);
      const close = () => {
        if (undoLogs.at(-1) !== log)
          throw new Error('SF_TRANSACTION_ORDER: close the innermost transaction first');
        undoLogs.pop();
      };
      return {
        commit() {
          close();
          undoLogs.at(-1)?.push(...log);
        },
        rollback() {
          close();
          for (const undo of log.reverse()) undo();
        },
      };
    },

    /** Every record of every object (deleted ones included), as plain JSON. */
    snapshot(): Record<string, Record<string, unknown>[]> {
      return Object.fromEntries(
        [...tables].map(([object, table]) => [object.name, [...table.values()].map((r) => ({ ...r }))]),
      );
    },

    /** Back to an empty org: no records, ids and auto-numbers from the start. */
    reset(): void {
      for (const table of tables.values()) table.clear();
      autoNumbers.clear();
      ids.reset();
      undoLogs.length = 0;
    },
  };
}
