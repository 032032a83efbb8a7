import { toSalesforceDateTime } from './clock.ts';
import {
  fieldError,
  invalidField,
  invalidTypeOnField,
  jsonParserError,
  notWritable,
  requiredFieldMissing,
} from './errors.ts';
import { normalizeId } from './ids.ts';
import {
  type FieldDef,
  isNumberType,
  isRequired,
  isTextType,
  referencePrefixes,
  type Schema,
  type SObjectDef,
} from './schema.ts';

export type WriteMode = 'create' | 'update';

/** Tells whether a referenced record exists (and is not deleted); the store answers it. */
export type ReferenceExists = (id: string) => boolean;

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Checks a create or update body against the object's fields and returns it with canonical field
 * names and stored values. Throws the error Salesforce would: INVALID_FIELD for an unknown field,
 * INVALID_FIELD_FOR_INSERT_UPDATE for a read-only one, INVALID_TYPE_ON_FIELD_IN_RECORD for a value
 * of the wrong type, REQUIRED_FIELD_MISSING for required fields left out or set to null.
 */
export function validateWrite(
  schema: Schema,
  object: SObjectDef,
  body: unknown,
  mode: WriteMode,
  referenceExists: ReferenceExists,
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw jsonParserError(
      `Can not deserialize SObject out of ${Array.isArray(body) ? 'START_ARRAY' : 'VALUE'} token`,
    );
  }
  const out: Record<string, unknown> = {};
  const readOnly: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    // clients may echo the attributes block they read; Salesforce ignores it
    if (key === 'attributes') continue;
    const field = schema.field(object, key);
    if (!field) throw invalidField(`No such column '${key}' on sobject of type ${object.name}`);
    if (mode === 'create' ? !field.createable : !field.updateable) {
      readOnly.push(field.name);
      continue;
    }
    out[field.name] = coerceValue(field, value, referenceExists);
  }
  if (readOnly.length > 0) throw notWritable(readOnly);

  const missing = object.fields.filter(
    (f) => isRequired(f) && (mode === 'create' ? out[f.name] == null : f.name in out && out[f.name] == null),
  );
  if (missing.length > 0) throw requiredFieldMissing(missing.map((f) => f.name));
  return out;
}

/** One value as Salesforce stores it; empty strings are stored as null, as Salesforce does. */
export function coerceValue(field: FieldDef, value: unknown, referenceExists: ReferenceExists): unknown {
  if (value === null || value === '') return null;
  const wrongType = () => invalidTypeOnField(field.name, field.label, value);
  if (field.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw wrongType();
  }
  if (isNumberType(field.type)) {
    const n =
      typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
    if (!Number.isFinite(n) || (field.type === 'int' && !Number.isInteger(n))) throw wrongType();
    return n;
  }
  if (typeof value === 'object') throw wrongType();
  const text = String(value);
  if (field.type === 'date') {
    // a full dateTime is accepted and cut to its day, as the API does
    const day = text.slice(0, 10);
    if (!datePattern.test(day) || Number.isNaN(Date.parse(day))) throw wrongType();
    return day;
  }
  if (field.type === 'datetime') {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw wrongType();
    return toSalesforceDateTime(ms);
  }
  if (field.type === 'reference' || field.type === 'id') return coerceReference(field, text, referenceExists);
  if (!isTextType(field.type)) throw wrongType();
  if (field.type === 'email' && !emailPattern.test(text)) {
    throw fieldError('INVALID_EMAIL_ADDRESS', field.name, `${field.label}: invalid email address: ${text}`);
  }
  if (field.length !== undefined && text.length > field.length) {
    throw fieldError(
      'STRING_TOO_LONG',
      field.name,
      `${field.label}: data value too large: ${text.slice(0, 40)} (max length=${field.length})`,
    );
  }
  return text;
}

function coerceReference(field: FieldDef, text: string, referenceExists: ReferenceExists): string {
  const id = normalizeId(text);
  const message = `${field.label}: id value of incorrect type: ${text}`;
  if (!id) throw fieldError('MALFORMED_ID', field.name, message);
  if (!referencePrefixes(field).includes(id.slice(0, 3))) {
    throw fieldError('FIELD_INTEGRITY_EXCEPTION', field.name, message);
  }
  // users are not stored as records, so only references to stored objects are checked for existence
  if (!field.referenceTo?.includes('User') && !referenceExists(id)) {
    throw fieldError('INVALID_CROSS_REFERENCE_KEY', field.name, 'invalid cross reference id');
  }
  return id;
}
