// The part of Auth0's user search syntax (Lucene, `search_engine=v3`) that applications use:
// `field:value`, `field:"quoted value"`, `*` wildcards, nested metadata fields
// (`app_metadata.plan:pro`), bare terms (any of email, name, nickname, username), and AND / OR
// with AND binding tighter, as in Lucene; terms without an operator are OR'ed, Lucene's default.
// Ranges, NOT and parentheses are not supported and are refused with a 400.
import { ManagementError } from '../errors.ts';
import type { UserRecord } from '../state.ts';

type Term = { field: string | undefined; pattern: RegExp };

const tokenPattern = /\s*(?:(AND|OR)(?=\s|$)|([\w.]+):"([^"]*)"|([\w.]+):(\S+)|"([^"]*)"|(\S+))/y;

function patternOf(value: string): RegExp {
  const escaped = value.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

const invalid = (q: string, why: string) =>
  new ManagementError(400, `Query validation error: '${why}' in q=${q}`, 'invalid_query_string');

/** Parses `q` into OR'ed groups of AND'ed terms. */
export function parseUserQuery(q: string): Term[][] {
  const groups: Term[][] = [[]];
  let pendingAnd = false;
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < q.length) {
    const match = tokenPattern.exec(q);
    if (!match) break;
    const [, operator, quotedField, quotedValue, field, value, quotedBare, bare] = match;
    if (operator) {
      if (groups.at(-1)!.length === 0) throw invalid(q, `${operator} has nothing before it`);
      if (operator === 'AND') pendingAnd = true;
      else groups.push([]);
      continue;
    }
    const text = (quotedValue ?? value ?? quotedBare ?? bare)!;
    if (/^(NOT|TO)$|^[[{(]|[)\]}]$/.test(text)) throw invalid(q, `unsupported syntax near ${text}`);
    const term = { field: quotedField ?? field, pattern: patternOf(text) };
    // without an operator, Lucene's default (OR) starts a new group
    if (!pendingAnd && groups.at(-1)!.length > 0) groups.push([]);
    groups.at(-1)!.push(term);
    pendingAnd = false;
  }
  if (pendingAnd || groups.at(-1)!.length === 0) throw invalid(q, 'the query ends with an operator');
  return groups;
}

/** The values a field has on a user: nested metadata by dots, connection through identities. */
function valuesOf(user: UserRecord, field: string): unknown[] {
  if (field === 'identities.connection') return [user.connection];
  let value: unknown = user;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object' || part === 'password') return [];
    value = (value as Record<string, unknown>)[part];
  }
  return Array.isArray(value) ? value : [value];
}

const anyField = ['email', 'name', 'nickname', 'username'];

function matches(user: UserRecord, term: Term): boolean {
  const fields = term.field ? [term.field] : anyField;
  return fields.some((field) =>
    valuesOf(user, field).some(
      (value) => value !== undefined && value !== null && term.pattern.test(String(value)),
    ),
  );
}

/** The users `q` selects, in the order given. */
export function searchUsers(users: UserRecord[], q: string | undefined): UserRecord[] {
  if (q === undefined || q.trim() === '') return users;
  const groups = parseUserQuery(q.trim());
  return users.filter((user) => groups.some((group) => group.every((term) => matches(user, term))));
}
