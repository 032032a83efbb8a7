import { malformedQuery } from '../errors.ts';

export type TokenKind = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'punct' | 'eof';

export type Token = {
  kind: TokenKind;
  /** The source text (for strings: the decoded value, LIKE escapes `\%` `\_` kept). */
  text: string;
  /** Offset of the token's first character in the query. */
  start: number;
};

const identPattern = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const datetimePattern = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/y;
const datePattern = /\d{4}-\d{2}-\d{2}(?![\d:T])/y;
const numberPattern = /-?(?:\d+(?:\.\d*)?|\.\d+)/y;
const puncts = ['!=', '<>', '<=', '>=', '=', '<', '>', '(', ')', ',', ':'];
const escapes: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

/**
 * Salesforce's MALFORMED_QUERY message: the offending line, a caret under the position, the row and
 * column, then what went wrong.
 */
export function queryError(soql: string, offset: number, detail: string, make = malformedQuery) {
  const before = soql.slice(0, offset);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = soql.indexOf('\n', offset);
  const line = soql.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const column = offset - lineStart + 1;
  return make(`\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`);
}

/** Splits SOQL into tokens; whitespace separates, keywords stay identifiers for the parser to read. */
export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const match = (pattern: RegExp) => {
    pattern.lastIndex = i;
    return pattern.exec(soql)?.[0];
  };
  while (i < soql.length) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      const { value, end } = readString(soql, i);
      tokens.push({ kind: 'string', text: value, start });
      i = end;
      continue;
    }
    const found =
      (/[0-9]/.test(c) &&
        (tokenOf('datetime', match(datetimePattern)) ?? tokenOf('date', match(datePattern)))) ||
      (/[-.0-9]/.test(c) && tokenOf('number', match(numberPattern))) ||
      (/[A-Za-z_]/.test(c) && tokenOf('ident', match(identPattern))) ||
      tokenOf(
        'punct',
        puncts.find((p) => soql.startsWith(p, i)),
      );
    if (!found) throw queryError(soql, i, `unexpected token: '${c}'`);
    if (found.kind === 'ident' && soql[i + found.text.length] === '.') {
      throw queryError(soql, i + found.text.length, `unexpected token: '.'`);
    }
    tokens.push({ ...found, start });
    i += found.text.length;
  }
  tokens.push({ kind: 'eof', text: '<EOF>', start: soql.length });
  return tokens;
}

function tokenOf(kind: TokenKind, text: string | undefined) {
  return text === undefined ? undefined : { kind, text };
}

function readString(soql: string, open: number): { value: string; end: number } {
  let value = '';
  let i = open + 1;
  while (i < soql.length) {
    const c = soql[i]!;
    if (c === "'") return { value, end: i + 1 };
    if (c === '\\') {
      const next = soql[i + 1];
      if (next === '%' || next === '_') value += `\\${next}`;
      else if (next !== undefined && next in escapes) value += escapes[next];
      else
        throw queryError(
          soql,
          i,
          `Invalid string literal '${soql.slice(open, i + 2)}'. Illegal escape sequence`,
        );
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw queryError(soql, open, `unexpected token: '${soql.slice(open)}'. Unterminated string literal`);
}
