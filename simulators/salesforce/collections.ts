import { invalidField, invalidType, jsonParserError, SalesforceError } from './errors.ts';
import { normalizeId } from './ids.ts';
import { sobjectUrl } from './present.ts';
import type { Schema } from './schema.ts';
import type { Store, WriteOptions } from './store.ts';

/** One error of a collection result: collections name the code `statusCode`, not `errorCode`. */
export type CollectionError = { statusCode: string; message: string; fields: string[] };

/** A SaveResult (or an UpsertResult, with `created`) of `/composite/sobjects`. */
export type CollectionResult = {
  id?: string;
  success: boolean;
  errors: CollectionError[];
  created?: boolean;
};

type CollectionBody = { allOrNone: boolean; records: Record<string, unknown>[] };

const maxRecords = 200;
const rolledBack: CollectionError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

const one = (statusCode: string, message: string): SalesforceError =>
  new SalesforceError(400, [{ errorCode: statusCode, message }]);

/** Checks the body every collection write takes; a malformed one fails as a whole (HTTP 400). */
export function parseCollectionBody(body: unknown): CollectionBody {
  const input = body as { allOrNone?: unknown; records?: unknown } | null;
  if (typeof input !== 'object' || input === null || !Array.isArray(input.records)) {
    throw jsonParserError('records: a list of sObjects is required');
  }
  if (input.records.length > maxRecords) {
    throw one(
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${maxRecords} records into this call`,
    );
  }
  if (input.records.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    throw jsonParserError('records: every entry must be an sObject');
  }
  return { allOrNone: input.allOrNone === true, records: input.records as Record<string, unknown>[] };
}

/** Turns a thrown SalesforceError into the failed result of one record. */
function failed(error: unknown, id?: string): CollectionResult {
  if (!(error instanceof SalesforceError)) throw error;
  const errors = error.errors.map((e) => ({
    statusCode: e.errorCode,
    message: e.message,
    fields: e.fields ?? [],
  }));
  return id ? { id, success: false, errors } : { success: false, errors };
}

/**
 * sObject Collections (`/composite/sobjects`): up to 200 records a call, as jsforce sends arrays
 * from API 42.0 on. Each record is saved or fails on its own; with allOrNone, every record is
 * still tried (so each invalid one reports its own error) and then all writes are rolled back.
 * The answer is 200 either way, with one result per record in request order.
 */
export function createCollections(deps: { store: Store; schema: Schema }) {
  const { store, schema } = deps;

  const typeOf = (record: Record<string, unknown>): string => {
    const type = (record.attributes as { type?: unknown } | undefined)?.type;
    if (typeof type !== 'string' || !schema.object(type)) {
      throw invalidType(
        `sObject type '${String(type)}' is not supported: give attributes.type of each record`,
      );
    }
    return schema.object(type)!.name;
  };
  const fieldsOf = (record: Record<string, unknown>, drop: string[]) =>
    Object.fromEntries(Object.entries(record).filter(([key]) => !drop.includes(key.toLowerCase())));

  /** Runs one operation per item; with allOrNone, rolls all back when any failed. */
  function run<T>(items: T[], allOrNone: boolean, save: (item: T) => CollectionResult): CollectionResult[] {
    const transaction = allOrNone ? store.beginTransaction() : undefined;
    const results = items.map(save);
    if (!transaction) return results;
    if (results.every((r) => r.success)) {
      transaction.commit();
      return results;
    }
    transaction.rollback();
    return results.map((r) => (r.success ? { ...r, success: false, errors: [rolledBack] } : r));
  }

  return {
    /** POST: `{allOrNone, records: [{attributes: {type}, …fields}]}`. */
    create(body: unknown, opts: WriteOptions = {}): CollectionResult[] {
      const { allOrNone, records } = parseCollectionBody(body);
      return run(records, allOrNone, (record) => {
        try {
          const id = store.create(typeOf(record), fieldsOf(record, ['attributes']), opts);
          return { id, success: true, errors: [] };
        } catch (error) {
          return failed(error);
        }
      });
    },

    /** PATCH: `{allOrNone, records: [{id, attributes: {type}, …fields}]}`. */
    update(body: unknown, opts: WriteOptions = {}): CollectionResult[] {
      const { allOrNone, records } = parseCollectionBody(body);
      return run(records, allOrNone, (record) => {
        const rawId = record.id ?? record.Id;
        const id = typeof rawId === 'string' ? rawId : undefined;
        try {
          if (!id) throw one('MISSING_ARGUMENT', 'Id not specified in an update call');
          store.update(typeOf(record), id, fieldsOf(record, ['attributes', 'id']), opts);
          return { id: normalizeId(id) ?? id, success: true, errors: [] };
        } catch (error) {
          return failed(error, id);
        }
      });
    },

    /** PATCH `/composite/sobjects/{type}/{externalIdField}`: creates or updates by external id. */
    upsert(
      type: string,
      externalIdField: string,
      body: unknown,
      opts: WriteOptions = {},
    ): CollectionResult[] {
      const object = schema.object(type);
      const field = object && schema.field(object, externalIdField);
      if (!object || !field?.externalId) {
        throw invalidField(
          `Field name provided, ${externalIdField} is not an External ID or indexed field for ${type}`,
        );
      }
      const { allOrNone, records } = parseCollectionBody(body);
      return run(records, allOrNone, (record) => {
        try {
          const value = Object.entries(record).find(
            ([key]) => key.toLowerCase() === field.name.toLowerCase(),
          )?.[1];
          if (value == null || value === '') {
            throw one('MISSING_ARGUMENT', `${field.name} not specified`);
          }
          const result = store.upsert(
            object.name,
            field.name,
            String(value),
            fieldsOf(record, ['attributes']),
            opts,
          );
          if (result.outcome === 'multiple') {
            throw one(
              'DUPLICATE_EXTERNAL_ID',
              `${field.name}: more than one record found for external id field: [${result.ids.join(', ')}]`,
            );
          }
          return { id: result.id, success: true, errors: [], created: result.outcome === 'created' };
        } catch (error) {
          return failed(error);
        }
      });
    },

    /** DELETE `?ids=a,b&allOrNone=true`: records of any objects, named by id alone. */
    delete(ids: string[], allOrNone: boolean, opts: WriteOptions = {}): CollectionResult[] {
      if (ids.length > maxRecords) {
        throw one(
          'EXCEEDED_ID_LIMIT',
          `record limit reached. cannot submit more than ${maxRecords} records into this call`,
        );
      }
      return run(ids, allOrNone, (id) => {
        try {
          const object = normalizeId(id) ? schema.objectForId(normalizeId(id)!) : undefined;
          if (!object) throw one('MALFORMED_ID', `malformed id ${id}`);
          store.delete(object.name, id, opts);
          return { id: normalizeId(id)!, success: true, errors: [] };
        } catch (error) {
          return failed(error, id);
        }
      });
    },

    /** POST `/composite/sobjects/{type}` `{ids, fields}`: the records in order, null where none is found. */
    retrieve(
      type: string,
      ids: string[],
      fields: string[],
      apiVersion: string,
    ): (Record<string, unknown> | null)[] {
      const object = schema.object(type);
      if (!object) throw invalidType(`sObject type '${type}' is not supported.`);
      if (fields.length === 0) throw one('MISSING_ARGUMENT', 'fields: name at least one field');
      if (ids.length > maxRecords) {
        throw one(
          'EXCEEDED_ID_LIMIT',
          `record limit reached. cannot submit more than ${maxRecords} records into this call`,
        );
      }
      return ids.map((id) => {
        try {
          const record = store.retrieve(object.name, id, fields);
          const url = sobjectUrl(apiVersion, object.name, normalizeId(id)!);
          return { attributes: { type: object.name, url }, ...record };
        } catch (error) {
          // an unknown field fails the whole call; a record that is not there is a null in its place
          if (error instanceof SalesforceError && error.errorCode === 'INVALID_FIELD') throw error;
          if (error instanceof SalesforceError) return null;
          throw error;
        }
      });
    },
  };
}

export type Collections = ReturnType<typeof createCollections>;
