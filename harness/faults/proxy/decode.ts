// Request bodies read the way Toxiproxy's Go server reads them (encoding/json into a struct):
// unknown fields and nulls are ignored, a field of the wrong JSON type is a 400 naming the Go
// field, and a number that must be an integer may not have a fraction.
import { badRequestBody } from './api-error.ts';

export type JsonObject = Record<string, unknown>;

/** Parses a request body; an empty one is Go's `EOF`. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') throw badRequestBody('EOF');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequestBody((error as Error).message);
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  return typeof value;
}

const cannotUnmarshal = (value: unknown, into: string, goType: string) =>
  badRequestBody(`json: cannot unmarshal ${kindOf(value)} into ${into} of type ${goType}`);

/** The body as an object; null reads as `{}` (Go leaves the struct as it was). */
export function objectBody(value: unknown, goType: string): JsonObject {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw cannotUnmarshal(value, 'Go value', goType);
  }
  return value as JsonObject;
}

export function stringField(body: JsonObject, field: string, struct: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw cannotUnmarshal(value, `Go struct field ${struct}.${field}`, 'string');
  return value;
}

export function boolField(body: JsonObject, field: string, struct: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw cannotUnmarshal(value, `Go struct field ${struct}.${field}`, 'bool');
  return value;
}

export function numberField(body: JsonObject, field: string, struct: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number')
    throw cannotUnmarshal(value, `Go struct field ${struct}.${field}`, 'float32');
  return value;
}

/**
 * An integer attribute within [min, max]. Go would take a negative one (and misbehave with it);
 * here it is a 400, as is a value past the bound that keeps every timer finite.
 */
export function integerField(
  body: JsonObject,
  field: string,
  struct: string,
  bounds: { min: number; max: number },
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw cannotUnmarshal(value, `Go struct field ${struct}.${field}`, 'int64');
  if (!Number.isInteger(value)) {
    throw badRequestBody(
      `json: cannot unmarshal number ${value} into Go struct field ${struct}.${field} of type int64`,
    );
  }
  if (value < bounds.min || value > bounds.max) {
    throw badRequestBody(`${field} must be from ${bounds.min} to ${bounds.max}, not ${value}`);
  }
  return value;
}
