import type { CompareOp, Condition, FieldPath, Literal, OrderItem, SelectItem, SoqlQuery } from './ast.ts';
import { queryError, type Token, tokenize } from './tokenizer.ts';

const compareOps = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);
const reserved = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ORDER',
  'BY',
  'LIMIT',
  'OFFSET',
  'ASC',
  'DESC',
  'NULLS',
  'FIRST',
  'LAST',
  'NULL',
  'TRUE',
  'FALSE',
]);
// valid SOQL the simulator does not model: say so instead of a puzzling "unexpected token"
const unsupported = new Set([
  'GROUP',
  'HAVING',
  'WITH',
  'FOR',
  'USING',
  'TYPEOF',
  'INCLUDES',
  'EXCLUDES',
  'ALL',
]);
const dateLiterals = new Set([
  'TODAY',
  'YESTERDAY',
  'TOMORROW',
  'THIS_WEEK',
  'LAST_WEEK',
  'NEXT_WEEK',
  'THIS_MONTH',
  'LAST_MONTH',
  'NEXT_MONTH',
  'LAST_90_DAYS',
  'NEXT_90_DAYS',
]);
/** How deeply NOT and parentheses may nest in a condition. */
export const maxConditionDepth = 100;
const dateNLiterals = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS', 'LAST_N_WEEKS', 'NEXT_N_WEEKS']);

/**
 * Parses the SOQL subset: SELECT fields | COUNT() FROM object [WHERE …] [ORDER BY …] [LIMIT n]
 * [OFFSET n]. Throws MALFORMED_QUERY with Salesforce's row/column layout on anything else.
 * @example parseSoql("SELECT Id, Account.Name FROM Contact WHERE LastName LIKE 'S%' ORDER BY CreatedDate DESC LIMIT 10")
 */
export function parseSoql(soql: string): SoqlQuery {
  const tokens = tokenize(soql);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const next = () => tokens[pos++]!;
  const upper = (t: Token) => (t.kind === 'ident' ? t.text.toUpperCase() : '');
  const isKeyword = (word: string) => upper(peek()) === word;
  const fail = (token: Token, detail?: string): never => {
    const word = upper(token);
    const hint = unsupported.has(word) ? ` (the Salesforce simulator does not support ${word} in SOQL)` : '';
    throw queryError(soql, token.start, detail ?? `unexpected token: '${token.text}'${hint}`);
  };
  const expectKeyword = (word: string) => (isKeyword(word) ? next() : fail(peek()));
  const expectPunct = (text: string) =>
    peek().kind === 'punct' && peek().text === text ? next() : fail(peek());

  function fieldPath(): FieldPath {
    const token = peek();
    if (token.kind !== 'ident' || reserved.has(upper(token))) return fail(token);
    next();
    return { parts: token.text.split('.'), text: token.text, start: token.start };
  }

  function selectList(): SelectItem[] {
    if (isKeyword('COUNT') && tokens[pos + 1]?.text === '(') {
      const start = next().start;
      expectPunct('(');
      expectPunct(')');
      return [{ kind: 'count', start }];
    }
    const items: SelectItem[] = [{ kind: 'field', path: fieldPath() }];
    while (peek().text === ',') {
      next();
      items.push({ kind: 'field', path: fieldPath() });
    }
    return items;
  }

  function literal(): Literal {
    const token = next();
    const { start } = token;
    if (token.kind === 'string') return { kind: 'string', value: token.text, start };
    if (token.kind === 'number') return { kind: 'number', value: Number(token.text), start };
    if (token.kind === 'date') return { kind: 'date', value: token.text, start };
    if (token.kind === 'datetime') return { kind: 'datetime', value: Date.parse(token.text), start };
    const word = upper(token);
    if (word === 'NULL') return { kind: 'null', start };
    if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE', start };
    if (dateLiterals.has(word)) return { kind: 'dateLiteral', name: word, start };
    if (dateNLiterals.has(word)) {
      expectPunct(':');
      const n = next();
      if (n.kind !== 'number' || !/^\d+$/.test(n.text)) return fail(n);
      return { kind: 'dateLiteral', name: word, n: Number(n.text), start };
    }
    return fail(token);
  }

  function predicate(): Condition {
    const path = fieldPath();
    const op = peek();
    if (op.kind === 'punct' && compareOps.has(op.text)) {
      next();
      return {
        kind: 'compare',
        path,
        op: (op.text === '<>' ? '!=' : op.text) as CompareOp,
        value: literal(),
      };
    }
    if (isKeyword('LIKE')) {
      next();
      return { kind: 'compare', path, op: 'LIKE', value: literal() };
    }
    const negated = isKeyword('NOT');
    if (negated) next();
    expectKeyword('IN');
    expectPunct('(');
    const values = [literal()];
    while (peek().text === ',') {
      next();
      values.push(literal());
    }
    expectPunct(')');
    return { kind: 'in', path, negated, values };
  }

  // the parser recurses once per NOT or parenthesis: a bound keeps a hostile query from
  // exhausting the stack (a 500) and answers MALFORMED_QUERY instead
  let depth = 0;
  function nested<T>(read: () => T): T {
    if (depth >= maxConditionDepth) {
      fail(
        peek(),
        `the condition nests NOT and parentheses more than ${maxConditionDepth} levels deep (the Salesforce simulator's limit)`,
      );
    }
    depth++;
    try {
      return read();
    } finally {
      depth--;
    }
  }

  function term(): Condition {
    if (isKeyword('NOT')) {
      return nested(() => {
        next();
        return { kind: 'not', item: term() } as Condition;
      });
    }
    if (peek().text === '(') {
      return nested(() => {
        next();
        const inner = condition();
        expectPunct(')');
        return inner;
      });
    }
    return predicate();
  }

  // SOQL refuses AND and OR side by side without parentheses, so a chain uses one of them only
  function condition(): Condition {
    const first = term();
    const joiner = upper(peek());
    if (joiner !== 'AND' && joiner !== 'OR') return first;
    const items = [first];
    while (isKeyword(joiner)) {
      next();
      items.push(term());
    }
    const other = joiner === 'AND' ? 'OR' : 'AND';
    if (isKeyword(other))
      fail(peek(), `unexpected token: '${peek().text}' (mixing AND and OR needs parentheses)`);
    return { kind: joiner === 'AND' ? 'and' : 'or', items };
  }

  function orderList(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      if (items.length > 0) next();
      const path = fieldPath();
      let descending = false;
      if (isKeyword('ASC') || isKeyword('DESC')) descending = upper(next()) === 'DESC';
      // Salesforce's default puts nulls first when ascending and last when descending
      let nullsLast = descending;
      if (isKeyword('NULLS')) {
        next();
        if (!isKeyword('FIRST') && !isKeyword('LAST')) fail(peek());
        nullsLast = upper(next()) === 'LAST';
      }
      items.push({ path, descending, nullsLast });
    } while (peek().text === ',');
    return items;
  }

  function wholeNumber(): number {
    const token = next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) return fail(token);
    return Number(token.text);
  }

  expectKeyword('SELECT');
  const select = selectList();
  expectKeyword('FROM');
  const fromToken = peek();
  if (fromToken.kind !== 'ident' || fromToken.text.includes('.') || reserved.has(upper(fromToken)))
    fail(fromToken);
  next();
  const query: SoqlQuery = { select, from: { name: fromToken.text, start: fromToken.start }, orderBy: [] };
  if (isKeyword('WHERE')) {
    next();
    query.where = condition();
  }
  if (isKeyword('ORDER')) {
    next();
    expectKeyword('BY');
    query.orderBy = orderList();
  }
  if (isKeyword('LIMIT')) {
    next();
    query.limit = wholeNumber();
  }
  if (isKeyword('OFFSET')) {
    next();
    query.offset = wholeNumber();
  }
  if (peek().kind !== 'eof') fail(peek());
  return query;
}
