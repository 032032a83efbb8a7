import { SfDate } from 'jsforce';
import { createSOQL } from 'jsforce/lib/soql-builder.js';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.ts';
import { createSchema } from '../schema.ts';
import { createStore } from '../store.ts';
import { errorOf } from '../test-support.ts';
import { createQueryCursors } from './cursors.ts';
import { runQuery } from './run.ts';

const apiVersion = '62.0';
const dayMs = 86_400_000;

/** An org on 2025-03-12 (a Wednesday) with three accounts, four contacts and two opportunities. */
function setup(batchSize = 2000) {
  const clock = createManualClock(Date.parse('2025-03-12T12:00:00Z'));
  const store = createStore({ schema: createSchema(), clock, defaultUserId: '0058d0000000001AAA' });
  const cursors = createQueryCursors({ clock, batchSize });
  const acme = store.create('Account', { Name: 'Acme', Industry: 'Retail', NumberOfEmployees: 50 });
  const globex = store.create('Account', { Name: 'Globex', Industry: 'Technology', NumberOfEmployees: 500 });
  const initech = store.create('Account', { Name: 'initech', NumberOfEmployees: 5 });
  clock.advance(-3 * dayMs);
  store.create('Contact', {
    FirstName: 'Ada',
    LastName: 'Lovelace',
    AccountId: acme,
    Email: 'ada@acme.test',
  });
  clock.advance(2 * dayMs);
  store.create('Contact', { FirstName: 'Alan', LastName: 'Turing', AccountId: globex });
  clock.advance(dayMs);
  store.create('Contact', { LastName: 'Hopper', Email: 'grace@navy.test' });
  store.create('Contact', { FirstName: 'Edsger', LastName: 'dijkstra', AccountId: initech });
  store.create('Opportunity', {
    Name: 'Big',
    StageName: 'Closed Won',
    CloseDate: '2025-03-01',
    Amount: 1000,
    AccountId: acme,
  });
  store.create('Opportunity', {
    Name: 'Small',
    StageName: 'Prospecting',
    CloseDate: '2025-04-15',
    AccountId: globex,
  });
  const query = (soql: string, options: { includeDeleted?: boolean; batchSize?: number } = {}) =>
    runQuery({ schema: store.schema, store, clock, cursors }, soql, { apiVersion, ...options });
  const names = (soql: string) => query(soql).records.map((r) => r.Name ?? r.LastName);
  return { clock, store, cursors, query, names, ids: { acme, globex, initech } };
}

describe('SOQL evaluation', () => {
  it('answers Salesforce query response shape with attributes and nested parent fields', () => {
    const { query, ids } = setup();
    const result = query("SELECT Id, Name, Account.Name FROM Contact WHERE LastName = 'lovelace'");
    expect(result).toEqual({
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: {
            type: 'Contact',
            url: `/services/data/v62.0/sobjects/Contact/${result.records[0]!.Id}`,
          },
          Id: expect.stringMatching(/^003/),
          Name: 'Ada Lovelace',
          Account: {
            attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${ids.acme}` },
            Name: 'Acme',
          },
        },
      ],
    });
    expect(
      query("SELECT Account.Name FROM Contact WHERE LastName = 'Hopper'").records[0]!.Account,
    ).toBeNull();
  });

  it('compares text case-insensitively, numbers numerically, and handles null, !=, IN and NOT IN', () => {
    const { names } = setup();
    expect(names("SELECT Name FROM Account WHERE Name = 'ACME'")).toEqual(['Acme']);
    expect(
      names('SELECT Name FROM Account WHERE NumberOfEmployees > 10 AND NumberOfEmployees <= 500'),
    ).toEqual(['Acme', 'Globex']);
    expect(names('SELECT Name FROM Account WHERE Industry = null')).toEqual(['initech']);
    expect(names("SELECT Name FROM Account WHERE Industry != 'Retail'")).toEqual(['Globex', 'initech']);
    expect(names("SELECT Name FROM Account WHERE Name IN ('globex', 'Initech')")).toEqual([
      'Globex',
      'initech',
    ]);
    expect(names("SELECT Name FROM Account WHERE Name NOT IN ('globex')")).toEqual(['Acme', 'initech']);
    expect(names("SELECT Name FROM Account WHERE NOT (Name = 'Acme' OR Name = 'Globex')")).toEqual([
      'initech',
    ]);
  });

  it('matches LIKE patterns with % and _, case-insensitively', () => {
    const { names } = setup();
    expect(names("SELECT LastName FROM Contact WHERE LastName LIKE 'd%'")).toEqual(['dijkstra']);
    expect(names("SELECT LastName FROM Contact WHERE Email LIKE '%.TEST'")).toEqual(['Lovelace', 'Hopper']);
    expect(names("SELECT LastName FROM Contact WHERE LastName LIKE 'T_ring'")).toEqual(['Turing']);
  });

  it('filters and selects through a parent relationship, and by id (15 or 18 characters)', () => {
    const { names, ids } = setup();
    expect(names("SELECT LastName FROM Contact WHERE Account.Industry = 'Technology'")).toEqual(['Turing']);
    expect(names(`SELECT LastName FROM Contact WHERE AccountId = '${ids.initech.slice(0, 15)}'`)).toEqual([
      'dijkstra',
    ]);
    expect(names(`SELECT Name FROM Opportunity WHERE Account.Id IN ('${ids.acme}')`)).toEqual(['Big']);
  });

  it('compares dates, date-times and date literals against the clock', () => {
    const { names } = setup();
    expect(names('SELECT Name FROM Opportunity WHERE CloseDate < 2025-03-12')).toEqual(['Big']);
    expect(names('SELECT Name FROM Opportunity WHERE CloseDate = 2025-04-15')).toEqual(['Small']);
    expect(names('SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:40')).toEqual(['Small']);
    expect(names('SELECT LastName FROM Contact WHERE CreatedDate = TODAY')).toEqual(['Hopper', 'dijkstra']);
    expect(names('SELECT LastName FROM Contact WHERE CreatedDate = YESTERDAY')).toEqual(['Turing']);
    expect(names('SELECT LastName FROM Contact WHERE CreatedDate < LAST_N_DAYS:2')).toEqual(['Lovelace']);
    expect(names('SELECT LastName FROM Contact WHERE CreatedDate > 2025-03-10T12:00:00Z')).toEqual([
      'Turing',
      'Hopper',
      'dijkstra',
    ]);
    expect(
      names('SELECT Name FROM Account WHERE CreatedDate = THIS_WEEK AND CreatedDate = THIS_MONTH'),
    ).toHaveLength(3);
  });

  it('sorts on several keys with Salesforce null placement, then applies OFFSET and LIMIT', () => {
    const { names, query } = setup();
    expect(names('SELECT LastName FROM Contact ORDER BY LastName')).toEqual([
      'dijkstra',
      'Hopper',
      'Lovelace',
      'Turing',
    ]);
    expect(names('SELECT LastName FROM Contact ORDER BY FirstName')).toEqual([
      'Hopper',
      'Lovelace',
      'Turing',
      'dijkstra',
    ]);
    expect(names('SELECT LastName FROM Contact ORDER BY FirstName DESC')).toEqual([
      'dijkstra',
      'Turing',
      'Lovelace',
      'Hopper',
    ]);
    expect(names('SELECT LastName FROM Contact ORDER BY FirstName ASC NULLS LAST')).toEqual([
      'Lovelace',
      'Turing',
      'dijkstra',
      'Hopper',
    ]);
    expect(names('SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName')).toEqual([
      'dijkstra',
      'Turing',
      'Lovelace',
      'Hopper',
    ]);
    expect(names('SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1')).toEqual([
      'Hopper',
      'Lovelace',
    ]);
    expect(query('SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1').totalSize).toBe(2);
  });

  it('counts with COUNT(); query leaves deleted records out and queryAll keeps them', () => {
    const { query, store, ids } = setup();
    expect(query('SELECT COUNT() FROM Contact WHERE Email != null')).toEqual({
      totalSize: 2,
      done: true,
      records: [],
    });
    store.delete('Account', ids.initech);
    expect(query('SELECT COUNT() FROM Account').totalSize).toBe(2);
    expect(
      query('SELECT Name, IsDeleted FROM Account WHERE IsDeleted = true', { includeDeleted: true }).records,
    ).toEqual([expect.objectContaining({ Name: 'initech', IsDeleted: true })]);
    // a parent in the recycle bin reads as no parent
    expect(
      query("SELECT Account.Name FROM Contact WHERE LastName = 'dijkstra'").records[0]!.Account,
    ).toBeNull();
  });

  it('runs the SOQL that jsforce builds for find()', () => {
    const { query, ids } = setup();
    const soql = createSOQL({
      table: 'Contact',
      fields: ['Id', 'LastName'],
      conditions: {
        $or: [{ LastName: { $like: 'L%' } }, { Email: { $nlike: '%.test' } }],
        AccountId: { $in: [ids.acme, ids.globex] },
        CreatedDate: { $lte: SfDate.toDateTimeLiteral(new Date('2025-03-12T00:00:00Z')) },
        Title: { $exists: false },
      },
      sort: { LastName: -1 },
      limit: 5,
    });
    expect(query(soql).records.map((r) => r.LastName)).toEqual(['Turing', 'Lovelace']);
    const relative = createSOQL({
      table: 'Opportunity',
      fields: ['Name'],
      conditions: { CloseDate: { $gte: SfDate.LAST_90_DAYS } },
    });
    expect(query(relative).records.map((r) => r.Name)).toEqual(['Big', 'Small']);
  });
});

describe('SOQL errors', () => {
  it.each([
    ['SELECT Id FROM Widget', 'INVALID_TYPE', "sObject type 'Widget' is not supported"],
    ['SELECT Id, Colour FROM Account', 'INVALID_FIELD', "No such column 'Colour' on entity 'Account'"],
    ['SELECT Boss.Name FROM Contact', 'INVALID_FIELD', "Didn't understand relationship 'Boss'"],
    ['SELECT Account.Colour FROM Contact', 'INVALID_FIELD', "No such column 'Colour' on entity 'Account'"],
    [
      'SELECT Id FROM Account WHERE Description = null',
      'INVALID_FIELD',
      "field 'Description' can not be filtered",
    ],
    ['SELECT Id FROM Account ORDER BY Description', 'INVALID_FIELD', "field 'Description' can not be sorted"],
    [
      "SELECT Id FROM Account WHERE NumberOfEmployees = '5'",
      'INVALID_QUERY_FILTER_OPERATOR',
      'must be of type integer',
    ],
    ['SELECT Id FROM Account WHERE Name = 5', 'INVALID_QUERY_FILTER_OPERATOR', 'must be of type string'],
    ["SELECT Id FROM Account WHERE Id = 'abc'", 'INVALID_QUERY_FILTER_OPERATOR', 'invalid ID field: abc'],
    [
      "SELECT Id FROM Opportunity WHERE CloseDate = '2025-01-01'",
      'INVALID_QUERY_FILTER_OPERATOR',
      'must be of type date',
    ],
    ['SELECT Id FROM Account WHERE Name > null', 'INVALID_QUERY_FILTER_OPERATOR', 'invalid operator on null'],
    [
      'SELECT Id FROM Account LIMIT 5 OFFSET 2001',
      'NUMBER_OUTSIDE_VALID_RANGE',
      'Maximum SOQL offset allowed is 2000',
    ],
  ])('%s → %s', (soql, errorCode, message) => {
    const { query } = setup();
    const error = errorOf(() => query(soql));
    expect(error.status).toBe(400);
    expect(error.errorCode).toBe(errorCode);
    expect(error.errors[0]!.message).toContain(message);
  });
});

describe('SOQL pagination', () => {
  it('pages past the batch size with nextRecordsUrl and a snapshot cursor', () => {
    const { query, cursors, store } = setup(2);
    const first = query('SELECT LastName FROM Contact ORDER BY LastName');
    expect(first).toMatchObject({
      totalSize: 4,
      done: false,
      nextRecordsUrl: expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g[A-Za-z0-9]{15}-2$/),
    });
    expect(first.records.map((r) => r.LastName)).toEqual(['dijkstra', 'Hopper']);
    // the cursor is a snapshot: later writes do not change the pages still to come
    store.create('Contact', { LastName: 'Zuse' });
    const last = cursors.nextPage(first.nextRecordsUrl!, apiVersion);
    expect(last).toEqual({
      totalSize: 4,
      done: true,
      records: [
        expect.objectContaining({ LastName: 'Lovelace' }),
        expect.objectContaining({ LastName: 'Turing' }),
      ],
    });
    expect(cursors.openCount()).toBe(0);
    expect(errorOf(() => cursors.nextPage(first.nextRecordsUrl!, apiVersion)).errorCode).toBe(
      'INVALID_QUERY_LOCATOR',
    );
  });

  it('honours a per-request batch size and forgets cursors left idle for 15 minutes', () => {
    const { query, cursors, clock } = setup();
    const first = query('SELECT Name FROM Account', { batchSize: 1 });
    const locator = first.nextRecordsUrl!.split('/').pop()!;
    expect(cursors.nextPage(locator, apiVersion, 1)).toMatchObject({
      done: false,
      records: [{ Name: 'Globex' }],
    });
    clock.advance(15 * 60_000 + 1);
    expect(errorOf(() => cursors.nextPage(`${locator.split('-')[0]}-2`, apiVersion)).toBody()).toEqual([
      { errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' },
    ]);
  });

  it('keeps at most maxOpen cursors, dropping the least recently read', () => {
    const clock = createManualClock();
    const cursors = createQueryCursors({ clock, batchSize: 1, maxOpen: 2 });
    const rows = [{ a: 1 }, { a: 2 }];
    const pages = [1, 2, 3].map(() => cursors.firstPage(rows, apiVersion));
    expect(cursors.openCount()).toBe(2);
    expect(errorOf(() => cursors.nextPage(pages[0]!.nextRecordsUrl!, apiVersion)).errorCode).toBe(
      'INVALID_QUERY_LOCATOR',
    );
    expect(cursors.nextPage(pages[2]!.nextRecordsUrl!, apiVersion).records).toEqual([{ a: 2 }]);
  });
});
