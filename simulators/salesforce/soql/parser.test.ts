import { describe, expect, it } from 'vitest';
import { errorOf } from '../test-support.ts';
import { parseSoql } from './parser.ts';

describe('SOQL parser', () => {
  it('parses fields, a parent field, WHERE with nesting, ORDER BY with nulls, LIMIT and OFFSET', () => {
    const query = parseSoql(
      "select Id, Account.Name FROM Contact WHERE (LastName LIKE 'S%' OR Email = null) AND AccountId IN ('001000000000001', '001000000000002') " +
        'ORDER BY LastName DESC NULLS FIRST, CreatedDate LIMIT 10 OFFSET 5',
    );
    expect(query.select.map((s) => (s.kind === 'field' ? s.path.text : 'COUNT()'))).toEqual([
      'Id',
      'Account.Name',
    ]);
    expect(query.from.name).toBe('Contact');
    expect(query.where).toMatchObject({
      kind: 'and',
      items: [
        {
          kind: 'or',
          items: [
            { kind: 'compare', op: 'LIKE', value: { kind: 'string', value: 'S%' } },
            { kind: 'compare', op: '=', value: { kind: 'null' } },
          ],
        },
        { kind: 'in', negated: false, values: [{ value: '001000000000001' }, { value: '001000000000002' }] },
      ],
    });
    expect(query.orderBy).toMatchObject([
      { path: { text: 'LastName' }, descending: true, nullsLast: false },
      { path: { text: 'CreatedDate' }, descending: false, nullsLast: false },
    ]);
    expect(query).toMatchObject({ limit: 10, offset: 5 });
  });

  it('parses COUNT(), NOT, NOT IN, <>, booleans, numbers, dates, date-times and date literals', () => {
    expect(parseSoql('SELECT COUNT() FROM Account').select).toEqual([{ kind: 'count', start: 7 }]);
    const query = parseSoql(
      "SELECT Id FROM Opportunity WHERE NOT IsWon = true AND StageName NOT IN ('A') AND Amount <> -1.5 " +
        'AND CloseDate >= 2025-01-31 AND CreatedDate < 2025-01-31T10:00:00.000+01:00 AND LastModifiedDate = LAST_N_DAYS:7',
    );
    expect(query.where).toMatchObject({
      kind: 'and',
      items: [
        { kind: 'not', item: { kind: 'compare', value: { kind: 'boolean', value: true } } },
        { kind: 'in', negated: true },
        { kind: 'compare', op: '!=', value: { kind: 'number', value: -1.5 } },
        { kind: 'compare', op: '>=', value: { kind: 'date', value: '2025-01-31' } },
        { kind: 'compare', op: '<', value: { kind: 'datetime', value: Date.parse('2025-01-31T09:00:00Z') } },
        { kind: 'compare', value: { kind: 'dateLiteral', name: 'LAST_N_DAYS', n: 7 } },
      ],
    });
  });

  it('decodes string escapes and keeps LIKE escapes', () => {
    const query = parseSoql("SELECT Id FROM Account WHERE Name = 'O\\'Brien\\n' OR Name LIKE '100\\%'");
    expect(query.where).toMatchObject({
      items: [{ value: { value: "O'Brien\n" } }, { value: { value: '100\\%' } }],
    });
  });

  it.each([
    ['SELECT Id FROM Account WHERE', 29, "unexpected token: '<EOF>'"],
    ['SELECT FROM Account', 8, "unexpected token: 'FROM'"],
    ['SELECT Id Account', 11, "unexpected token: 'Account'"],
    [
      "SELECT Id FROM Account WHERE Name = 'x' AND Type = 'y' OR Industry = 'z'",
      56,
      'mixing AND and OR needs parentheses',
    ],
    ['SELECT Id FROM Account LIMIT ten', 30, "unexpected token: 'ten'"],
    ['SELECT Id FROM Account GROUP BY Name', 24, 'does not support GROUP in SOQL'],
    ["SELECT Id FROM Account WHERE Name = 'open", 37, 'Unterminated string literal'],
    ["SELECT Id FROM Account WHERE Name = 'a\\qb'", 39, 'Illegal escape sequence'],
    ['SELECT Id FROM Account WHERE Name = #', 37, "unexpected token: '#'"],
    ['SELECT Id FROM Account WHERE Name IN ()', 39, "unexpected token: ')'"],
  ])('refuses %s with MALFORMED_QUERY at column %i', (soql, column, detail) => {
    const error = errorOf(() => parseSoql(soql));
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe('MALFORMED_QUERY');
    const message = error.errors[0]!.message;
    expect(message).toContain(`ERROR at Row:1:Column:${column}\n`);
    expect(message).toContain(detail);
    // the caret sits under the column it names
    const [, line, caret] = message.split('\n');
    expect(line).toBe(soql);
    expect(caret!.indexOf('^') + 1).toBe(column);
  });

  it('names the row of a multi-line query', () => {
    const message = errorOf(() => parseSoql('SELECT Id\nFROM Account\nWHERE Name =')).errors[0]!.message;
    expect(message).toBe(
      "\nWHERE Name =\n            ^\nERROR at Row:3:Column:13\nunexpected token: '<EOF>'",
    );
  });
});
