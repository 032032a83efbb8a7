// A SOQL condition nested thousands of levels deep (NOT or parentheses) answers 400 MALFORMED_QUERY
// with a clear message instead of exhausting the parser's stack into a 500 UNKNOWN_EXCEPTION.
import { describe, expect, it } from 'vitest';
import { maxConditionDepth } from './soql/parser.ts';
import { loggedIn, rejectionOf, startSalesforce } from './testing.ts';

const parens = (n: number) => `SELECT Id FROM Account WHERE ${'('.repeat(n)}Name = 'x'${')'.repeat(n)}`;
const nots = (n: number) => `SELECT Id FROM Account WHERE ${'NOT '.repeat(n)}Name = 'x'`;
const tooDeep = `more than ${maxConditionDepth} levels deep`;

describe('SOQL nesting depth over HTTP', () => {
  it('answers the deepest allowed query, and MALFORMED_QUERY one level deeper', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    await conn.sobject('Account').create({ Name: 'x' });
    expect((await conn.query(parens(maxConditionDepth))).totalSize).toBe(1);
    // an even number of NOTs cancels out
    expect((await conn.query(nots(maxConditionDepth))).totalSize).toBe(1);
    for (const soql of [parens(maxConditionDepth + 1), nots(maxConditionDepth + 1)]) {
      const error = await rejectionOf(conn.query(soql));
      expect(error.errorCode).toBe('MALFORMED_QUERY');
      expect(error.message).toContain(tooDeep);
    }
  });

  it('refuses 20,000 levels inside a composite body with 400 MALFORMED_QUERY, not a 500', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const url = (soql: string) => `/services/data/v62.0/query?q=${encodeURIComponent(soql)}`;
    const answer = await conn.request<{
      compositeResponse: { httpStatusCode: number; body: { errorCode: string; message: string }[] }[];
    }>({
      method: 'POST',
      url: '/composite',
      body: JSON.stringify({
        compositeRequest: [
          { method: 'GET', url: url(parens(20_000)), referenceId: 'parens' },
          { method: 'GET', url: url(nots(20_000)), referenceId: 'nots' },
        ],
      }),
      headers: { 'content-type': 'application/json' },
    });
    for (const sub of answer.compositeResponse) {
      expect(sub.httpStatusCode).toBe(400);
      expect(sub.body[0]?.errorCode).toBe('MALFORMED_QUERY');
      expect(sub.body[0]?.message).toContain(tooDeep);
    }
  });
});
