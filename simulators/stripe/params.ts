import { invalidRequest, missingParam } from './errors.ts';

/** Decoded request parameters: strings from a form body, or numbers and booleans from a direct call. */
export type Params = Record<string, unknown>;

const isRecord = (value: unknown): value is Params =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Where a nested hash sits in the request (`items[0]`), so that errors name the parameter in full
// (`items[0][price]`) as Stripe's do. Kept beside the hash, not in it, so params stay plain data.
const paths = new WeakMap<object, string>();

/** The full name of a parameter of `params`: `name`, or `items[0][name]` inside a nested hash. */
export function paramName(params: Params, name: string): string {
  const prefix = paths.get(params);
  return prefix === undefined ? name : `${prefix}[${name}]`;
}

function nested<T extends Params>(parent: Params, name: string, child: T): T {
  paths.set(child, paramName(parent, name));
  return child;
}

/** A nested hash parameter (`card[number]`), or an empty one when absent. */
export function readHash(params: Params, name: string): Params {
  const value = params[name];
  if (value === undefined || value === '') return nested(params, name, {});
  if (!isRecord(value))
    throw invalidRequest(`Invalid object`, paramName(params, name), 'parameter_invalid_object');
  return nested(params, name, value);
}

export function readString(params: Params, name: string): string | undefined;
export function readString(params: Params, name: string, required: true): string;
export function readString(params: Params, name: string, required = false): string | undefined {
  const value = params[name];
  if (value === undefined || (required && value === '')) {
    if (required) throw missingParam(paramName(params, name));
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw invalidRequest(
      `Invalid string: ${JSON.stringify(value)}`,
      paramName(params, name),
      'parameter_invalid_string',
    );
  }
  return String(value);
}

/** A string that may be emptied with `name=` (Stripe's way to unset a field): `null` then. */
export function readNullableString(params: Params, name: string): string | null | undefined {
  const value = readString(params, name);
  return value === '' ? null : value;
}

export function readInt(params: Params, name: string): number | undefined;
export function readInt(params: Params, name: string, required: true): number;
export function readInt(params: Params, name: string, required = false): number | undefined {
  const value = params[name];
  if (value === undefined || value === '') {
    if (required) throw missingParam(paramName(params, name));
    return undefined;
  }
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || (typeof value === 'string' && !/^-?\d+$/.test(value))) {
    throw invalidRequest(
      `Invalid integer: ${String(value)}`,
      paramName(params, name),
      'parameter_invalid_integer',
    );
  }
  return number;
}

export function readBool(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${String(value)}`, paramName(params, name));
}

export function readEnum<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = readString(params, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidRequest(
      `Invalid ${name}: must be one of ${allowed.join(', ')}`,
      paramName(params, name),
      'parameter_invalid_string',
    );
  }
  return value as T;
}

/**
 * An array parameter. Form bodies give arrays (`items[0][price]`); a body with gaps or more entries
 * than the decoder makes arrays of gives an object with numeric keys, taken in key order.
 */
export function readList(params: Params, name: string): unknown[] | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) return value;
  if (isRecord(value) && Object.keys(value).every((key) => /^\d+$/.test(key))) {
    return Object.keys(value)
      .sort((a, b) => Number(a) - Number(b))
      .map((key) => value[key]);
  }
  if (typeof value === 'string') return [value];
  throw invalidRequest(`Invalid array`, paramName(params, name), 'parameter_invalid_array');
}

export function readStringList(params: Params, name: string): string[] | undefined {
  return readList(params, name)?.map((item, i) => {
    if (typeof item !== 'string') throw invalidRequest(`Invalid string`, `${paramName(params, name)}[${i}]`);
    return item;
  });
}

/** A hash parameter's entries read as nested params (`items[0]` → `{ price, quantity }`). */
export function readHashList(params: Params, name: string): Params[] | undefined {
  return readList(params, name)?.map((item, i) => {
    const where = `${paramName(params, name)}[${i}]`;
    if (!isRecord(item)) throw invalidRequest(`Invalid object`, where, 'parameter_invalid_object');
    paths.set(item, where);
    return item;
  });
}

/** `expand[]=…`: the paths to expand in the answer. */
export const readExpand = (params: Params): string[] => readStringList(params, 'expand') ?? [];

/** A Unix timestamp in seconds, or `now` when the parameter allows it. */
export function readTimestamp(params: Params, name: string, allowNow = false): number | 'now' | undefined {
  if (allowNow && params[name] === 'now') return 'now';
  return readInt(params, name);
}

export { isRecord };
