import { invalidField, invalidQueryFilter, invalidType, SalesforceError } from '../errors.ts';
import { type FieldDef, isFilterable, isTextType, type Schema, type SObjectDef } from '../schema.ts';
import type { Condition, FieldPath, Literal, SoqlQuery } from './ast.ts';
import { comparable, compareOrdered, likePattern, normalize, rangeComparison } from './compare.ts';
import { queryError } from './tokenizer.ts';

/** Where a selected or filtered value comes from: a field of the record, or of its parent. */
export type Accessor = { field: FieldDef; via?: { reference: FieldDef; target: SObjectDef } };

/** Reads an accessor's value for the record being evaluated. */
export type Row = (accessor: Accessor) => unknown;
export type Predicate = (row: Row) => boolean;

export type CompiledQuery = {
  object: SObjectDef;
  count: boolean;
  fields: Accessor[];
  where?: Predicate;
  orderBy: Array<{ accessor: Accessor; descending: boolean; nullsLast: boolean }>;
  limit?: number;
  offset?: number;
};

const maxOffset = 2000;

/**
 * Binds a parsed query to the schema and checks it as Salesforce does: INVALID_TYPE for an unknown
 * object, INVALID_FIELD for an unknown field or relationship, INVALID_QUERY_FILTER_OPERATOR for a
 * value of the wrong type. `nowMs` fixes TODAY and its kin for the whole query.
 */
export function compileQuery(schema: Schema, soql: string, query: SoqlQuery, nowMs: number): CompiledQuery {
  const at = (start: number, make: (m: string) => SalesforceError) => (detail: string) =>
    queryError(soql, start, detail, make);
  const object = schema.object(query.from.name);
  if (!object) {
    throw at(
      query.from.start,
      invalidType,
    )(
      `sObject type '${query.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }

  function resolve(path: FieldPath): Accessor {
    const fail = at(path.start, (m) => invalidField(m));
    if (path.parts.length > 2)
      throw fail(`${path.text}: the Salesforce simulator follows one parent relationship`);
    if (path.parts.length === 1) {
      const field = schema.field(object!, path.parts[0]!);
      if (!field) throw fail(noSuchColumn(path.parts[0]!, object!.name));
      return { field };
    }
    const [relationship, name] = path.parts as [string, string];
    const reference = schema.relationship(object!, relationship);
    const target =
      reference?.referenceTo?.length === 1 ? schema.object(reference.referenceTo[0]!) : undefined;
    if (!reference || !target) {
      throw fail(
        `Didn't understand relationship '${relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.${reference ? ' (the Salesforce simulator follows only single-object relationships to Account, Contact, Task, Case and Opportunity)' : ''}`,
      );
    }
    const field = schema.field(target, name);
    if (!field) throw fail(noSuchColumn(name, target.name));
    return { field, via: { reference, target } };
  }

  function filterable(path: FieldPath): Accessor {
    const accessor = resolve(path);
    if (!isFilterable(accessor.field)) {
      throw at(path.start, (m) => invalidField(m))(
        `field '${accessor.field.name}' can not be filtered in a query call`,
      );
    }
    return accessor;
  }

  function compileCondition(condition: Condition): Predicate {
    switch (condition.kind) {
      case 'and': {
        const items = condition.items.map(compileCondition);
        return (row) => items.every((p) => p(row));
      }
      case 'or': {
        const items = condition.items.map(compileCondition);
        return (row) => items.some((p) => p(row));
      }
      case 'not': {
        const item = compileCondition(condition.item);
        return (row) => !item(row);
      }
      case 'in': {
        const accessor = filterable(condition.path);
        const tests = condition.values.map((v) => comparison(accessor, '=', v));
        return (row) => tests.some((t) => t(row)) !== condition.negated;
      }
      case 'compare':
        return comparison(filterable(condition.path), condition.op, condition.value);
    }
  }

  function comparison(accessor: Accessor, op: string, literal: Literal): Predicate {
    const { field } = accessor;
    const fail = at(literal.start, invalidQueryFilter);
    if (literal.kind === 'null') {
      if (op !== '=' && op !== '!=') throw fail(`invalid operator on null value: ${op}`);
      return (row) => (row(accessor) == null) === (op === '=');
    }
    if (op === 'LIKE') {
      if (!isTextType(field.type) || literal.kind !== 'string') {
        throw fail(`invalid operator on field '${field.name}': LIKE needs a text field and a quoted pattern`);
      }
      const pattern = likePattern(literal.value);
      return (row) => {
        const value = row(accessor);
        return typeof value === 'string' && pattern.test(value);
      };
    }
    const target = comparable(field, literal, nowMs, fail);
    if ('range' in target) return rangeComparison(accessor, op, target.range);
    return (row) => {
      const value = row(accessor);
      if (value == null) return op === '!=';
      return compareOrdered(normalize(field, value), target.value, op);
    };
  }

  const compiled: CompiledQuery = {
    object,
    count: query.select.some((s) => s.kind === 'count'),
    fields: query.select.flatMap((s) => (s.kind === 'field' ? [resolve(s.path)] : [])),
    orderBy: query.orderBy.map((o) => {
      const accessor = resolve(o.path);
      if (!isFilterable(accessor.field)) {
        throw at(o.path.start, (m) => invalidField(m))(
          `field '${accessor.field.name}' can not be sorted in a query call`,
        );
      }
      return { accessor, descending: o.descending, nullsLast: o.nullsLast };
    }),
    limit: query.limit,
    offset: query.offset,
  };
  if (query.where) compiled.where = compileCondition(query.where);
  if ((query.offset ?? 0) > maxOffset) {
    throw new SalesforceError(400, [
      { errorCode: 'NUMBER_OUTSIDE_VALID_RANGE', message: `Maximum SOQL offset allowed is ${maxOffset}` },
    ]);
  }
  return compiled;
}

const noSuchColumn = (name: string, object: string) =>
  `No such column '${name}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`;
