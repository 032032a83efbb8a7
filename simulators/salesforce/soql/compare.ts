import type { SalesforceError } from '../errors.ts';
import { normalizeId } from '../ids.ts';
import { type FieldDef, isNumberType, isTextType } from '../schema.ts';
import type { Literal } from './ast.ts';
import type { Accessor, Predicate } from './compile.ts';
import { dateLiteralRange, oneDayMs, storedTimeMs, type TimeRange } from './date-literals.ts';

/** A stored value in the form comparisons use: text case-insensitive, as SOQL compares it. */
export function normalize(field: FieldDef, value: unknown): unknown {
  if (field.type === 'date' || field.type === 'datetime') return storedTimeMs(String(value));
  if (typeof value === 'string' && field.type !== 'id' && field.type !== 'reference')
    return value.toLowerCase();
  return value;
}

/** The literal as a value to compare with, or as a time range for dates; refuses a literal of the wrong type. */
export function comparable(
  field: FieldDef,
  literal: Exclude<Literal, { kind: 'null' }>,
  nowMs: number,
  fail: (detail: string) => SalesforceError,
): { value: unknown } | { range: TimeRange } {
  const mismatch = (type: string, quoted: boolean) =>
    fail(
      `value of filter criterion for field '${field.name}' must be of type ${type} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
    );
  if (field.type === 'id' || field.type === 'reference') {
    if (literal.kind !== 'string') throw mismatch('string', true);
    const id = normalizeId(literal.value);
    if (!id) throw fail(`invalid ID field: ${literal.value}`);
    return { value: id };
  }
  if (isTextType(field.type)) {
    if (literal.kind !== 'string') throw mismatch('string', true);
    return { value: literal.value.toLowerCase() };
  }
  if (field.type === 'boolean') {
    if (literal.kind !== 'boolean') throw mismatch('boolean', false);
    return { value: literal.value };
  }
  if (isNumberType(field.type)) {
    if (literal.kind !== 'number') throw mismatch(field.type === 'int' ? 'integer' : 'double', false);
    return { value: literal.value };
  }
  if (literal.kind === 'dateLiteral') return { range: dateLiteralRange(literal.name, literal.n, nowMs) };
  if (field.type === 'date' && literal.kind === 'date') {
    const start = Date.parse(`${literal.value}T00:00:00Z`);
    return { range: { start, end: start + oneDayMs } };
  }
  if (field.type === 'datetime' && literal.kind === 'datetime') {
    return { range: { start: literal.value, end: literal.value + 1 } };
  }
  throw mismatch(field.type === 'date' ? 'date' : 'dateTime', false);
}

export function rangeComparison(accessor: Accessor, op: string, { start, end }: TimeRange): Predicate {
  return (row) => {
    const value = row(accessor);
    if (value == null) return op === '!=';
    const t = storedTimeMs(String(value));
    if (op === '=') return t >= start && t < end;
    if (op === '!=') return t < start || t >= end;
    if (op === '<') return t < start;
    if (op === '<=') return t < end;
    if (op === '>') return t >= end;
    return t >= start;
  };
}

export function compareOrdered(a: unknown, b: unknown, op: string): boolean {
  if (op === '=') return a === b;
  if (op === '!=') return a !== b;
  const order = (a as number | string) < (b as number | string) ? -1 : a === b ? 0 : 1;
  if (op === '<') return order < 0;
  if (op === '<=') return order <= 0;
  if (op === '>') return order > 0;
  return order >= 0;
}

/** LIKE: `%` any run, `_` one character, `\%` and `\_` themselves; case-insensitive. */
export function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) source += pattern[++i];
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}
