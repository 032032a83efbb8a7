import { invalidRequest } from './errors.ts';
import { isRecord, type Params } from './params.ts';

export type Metadata = Record<string, string>;

// Stripe's documented limits: a client that exceeds them must see the same error here as in production
const maxKeys = 50;
const maxKeyLength = 40;
const maxValueLength = 500;

/**
 * Applies a `metadata` parameter to existing metadata the way Stripe does: keys merge, a key set to
 * `''` is removed, and `metadata=''` removes everything.
 */
export function applyMetadata(current: Metadata, params: Params): Metadata {
  const value = params.metadata;
  if (value === undefined) return current;
  if (value === '' || value === null) return {};
  if (!isRecord(value)) throw invalidRequest('Invalid object', 'metadata', 'parameter_invalid_object');
  const next = { ...current };
  for (const [key, raw] of Object.entries(value)) {
    if (key.length > maxKeyLength) {
      throw invalidRequest(
        `Metadata keys must be at most ${maxKeyLength} characters long.`,
        `metadata[${key}]`,
      );
    }
    if (raw === '' || raw === null) {
      delete next[key];
      continue;
    }
    const text =
      typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
    if (text === null) throw invalidRequest('Invalid string', `metadata[${key}]`, 'parameter_invalid_string');
    if (text.length > maxValueLength) {
      throw invalidRequest(
        `Metadata values can have up to ${maxValueLength} characters, but you passed in a value that is ${text.length} characters.`,
        `metadata[${key}]`,
      );
    }
    next[key] = text;
  }
  if (Object.keys(next).length > maxKeys) {
    throw invalidRequest(`You can have up to ${maxKeys} metadata keys.`, 'metadata');
  }
  return next;
}
