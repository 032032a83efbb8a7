// jsforce's SOQL against the simulator: paging over several batches, queryMore, the query builder,
// queryAll, and MALFORMED_QUERY.
import { describe, expect, it } from 'vitest';
import { loggedIn, rejectionOf, startSalesforce } from './testing.ts';

async function withAccounts(count: number, options: Parameters<typeof startSalesforce>[0] = {}) {
  const sim = await startSalesforce(options);
  const conn = await loggedIn(sim.url);
  const records = Array.from({ length: count }, (_, i) => ({
    Name: `Account ${String(i).padStart(4, '0')}`,
    NumberOfEmployees: i,
  }));
  // sObject Collections take 200 a call: allowRecursive splits the array as jsforce does for bulk loads
  await conn.sobject('Account').create(records, { allowRecursive: true });
  return { sim, conn };
}

describe('jsforce query', () => {
  it('autoFetch follows nextRecordsUrl over more than one batch of 2000 (the default)', async () => {
    const { sim, conn } = await withAccounts(2100);
    await using _ = sim;
    let pages = 0;
    const query = conn.query('SELECT Id, Name FROM Account ORDER BY Name', {
      autoFetch: true,
      maxFetch: 5000,
    });
    query.on('fetch', () => pages++);
    const result = await query;
    expect(result.totalSize).toBe(2100);
    expect(result.records).toHaveLength(2100);
    expect(result.records.at(-1)!.Name).toBe('Account 2099');
    expect(pages).toBe(2);
  });

  it('queryMore with the locator of a page, and Sforce-Query-Options batchSize', async () => {
    const { sim, conn } = await withAccounts(450);
    await using _ = sim;
    const headers = { 'Sforce-Query-Options': 'batchSize=200' };
    // queryMore's type wants every option; these are jsforce's own defaults
    const more = {
      headers,
      maxFetch: 10_000,
      autoFetch: false,
      scanAll: false,
      responseTarget: 'QueryResult' as const,
    };
    const first = await conn.query('SELECT Name FROM Account ORDER BY NumberOfEmployees', { headers });
    expect(first).toMatchObject({
      totalSize: 450,
      done: false,
      nextRecordsUrl: expect.stringMatching(/\/services\/data\/v62\.0\/query\/01g/),
    });
    expect(first.records).toHaveLength(200);
    const second = await conn.queryMore(first.nextRecordsUrl!, more);
    const third = await conn.queryMore(second.nextRecordsUrl!, more);
    expect([second.records.length, third.records.length, third.done]).toEqual([200, 50, true]);
    expect(third.records.at(-1)!.Name).toBe('Account 0449');
    expect(
      (await rejectionOf(conn.queryMore(first.nextRecordsUrl!.replace(/-\d+$/, '-9999')))).errorCode,
    ).toBe('INVALID_QUERY_LOCATOR');
  });

  it('sobject().find() builds SOQL that the simulator runs: conditions, fields, sort, limit, offset', async () => {
    const { sim, conn } = await withAccounts(30);
    await using _ = sim;
    const found = await conn
      .sobject('Account')
      .find({ NumberOfEmployees: { $gte: 10, $lt: 20 }, Name: { $like: 'Account 001%' } }, [
        'Id',
        'Name',
        'NumberOfEmployees',
      ])
      .sort({ NumberOfEmployees: -1 })
      .limit(3)
      .skip(1);
    expect(found.map((r) => r.NumberOfEmployees)).toEqual([18, 17, 16]);
    const inList = await conn
      .sobject('Account')
      .find({ Name: { $in: ['Account 0001', 'Account 0002'] } }, 'Name');
    expect(inList.map((r) => r.Name).sort()).toEqual(['Account 0001', 'Account 0002']);
    // '*' makes jsforce describe the object first, then select every field
    const everything = await conn.sobject('Account').findOne({ Name: 'Account 0007' });
    expect(everything).toMatchObject({ Name: 'Account 0007', NumberOfEmployees: 7, IsDeleted: false });
    expect(await conn.sobject('Account').count({ NumberOfEmployees: { $lt: 5 } })).toBe(5);
  });

  it('relationship fields and queryAll (scanAll) with deleted records', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const account = await conn.sobject('Account').create({ Name: 'Acme' });
    const contact = await conn.sobject('Contact').create({ LastName: 'Lovelace', AccountId: account.id });
    await conn.sobject('Contact').destroy(contact.id!);
    expect((await conn.query('SELECT Id FROM Contact')).totalSize).toBe(0);
    const all = await conn.query('SELECT LastName, Account.Name, IsDeleted FROM Contact', { scanAll: true });
    expect(all.records).toMatchObject([{ LastName: 'Lovelace', Account: { Name: 'Acme' }, IsDeleted: true }]);
  });

  it('MALFORMED_QUERY, INVALID_FIELD and INVALID_TYPE reach jsforce', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const malformed = await rejectionOf(conn.query('SELEC Id FROM Account'));
    expect(malformed.errorCode).toBe('MALFORMED_QUERY');
    expect((await rejectionOf(conn.query('SELECT Nope FROM Account'))).errorCode).toBe('INVALID_FIELD');
    expect((await rejectionOf(conn.query('SELECT Id FROM Lead'))).errorCode).toBe('INVALID_TYPE');
    expect((await rejectionOf(conn.request('/query'))).errorCode).toBe('MALFORMED_QUERY');
  });
});
