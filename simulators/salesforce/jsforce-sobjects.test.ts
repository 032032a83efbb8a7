// jsforce's sObject calls against the simulator: CRUD and upsert for the five objects, describe,
// sObject Collections for arrays, and the errors jsforce surfaces.
import { describe, expect, it } from 'vitest';
import { loggedIn, rejectionOf, startSalesforce } from './testing.ts';

describe('jsforce sObject CRUD', () => {
  it.each([
    ['Account', { Name: 'Acme' }, { Industry: 'Retail' }],
    ['Contact', { FirstName: 'Ada', LastName: 'Lovelace' }, { Title: 'Countess' }],
    ['Task', { Subject: 'Call back' }, { Status: 'Completed' }],
    ['Case', { Subject: 'Printer on fire' }, { Status: 'Closed' }],
    [
      'Opportunity',
      { Name: 'Big deal', StageName: 'Prospecting', CloseDate: '2030-06-30' },
      { Amount: 5000 },
    ],
  ])('%s: create, retrieve, update, destroy', async (type, fields, changes) => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const sobject = conn.sobject(type);
    const created = await sobject.create(fields);
    expect(created).toEqual({ id: expect.stringMatching(/^[0-9a-zA-Z]{18}$/), success: true, errors: [] });
    const record = await sobject.retrieve(created.id!);
    expect(record).toMatchObject({ attributes: { type }, Id: created.id, ...fields });
    expect(await sobject.update({ Id: created.id!, ...changes })).toEqual({
      id: created.id,
      success: true,
      errors: [],
    });
    expect(await sobject.retrieve(created.id!)).toMatchObject(changes);
    expect(await sobject.destroy(created.id!)).toEqual({ id: created.id, success: true, errors: [] });
    const gone = await rejectionOf(sobject.retrieve(created.id!));
    expect(gone.errorCode).toBe('ENTITY_IS_DELETED');
  });

  it('derived fields follow the data: Contact.Name, Task.IsClosed, Case.CaseNumber, Opportunity.IsWon', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const account = await conn.sobject('Account').create({ Name: 'Acme' });
    const contact = await conn
      .sobject('Contact')
      .create({ FirstName: 'Ada', LastName: 'Lovelace', AccountId: account.id });
    expect((await conn.sobject('Contact').retrieve(contact.id!)).Name).toBe('Ada Lovelace');
    const task = await conn
      .sobject('Task')
      .create({ Subject: 'x', Status: 'Completed', WhoId: contact.id, WhatId: account.id });
    expect(await conn.sobject('Task').retrieve(task.id!, { fields: ['IsClosed', 'WhoId'] })).toMatchObject({
      IsClosed: true,
      WhoId: contact.id,
    });
    const kase = await conn.sobject('Case').create({ Subject: 'x', AccountId: account.id });
    expect((await conn.sobject('Case').retrieve(kase.id!)).CaseNumber).toBe('00001001');
    const deal = await conn
      .sobject('Opportunity')
      .create({ Name: 'd', StageName: 'Closed Won', CloseDate: '2030-01-01' });
    expect(await conn.sobject('Opportunity').retrieve(deal.id!)).toMatchObject({
      IsWon: true,
      IsClosed: true,
    });
  });

  it('retrieve with fields answers only those fields and the attributes', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const { id } = await conn.sobject('Account').create({ Name: 'Acme', Industry: 'Finance' });
    expect(await conn.sobject('Account').retrieve(id!, { fields: ['Name'] })).toEqual({
      attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${id}` },
      Name: 'Acme',
    });
  });

  it('upsert by external id: created (201), updated (200 from API 46.0, 204 before), and several matches (300)', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const accounts = conn.sobject('Account');
    const created = await accounts.upsert({ External_Id__c: 'ext-1', Name: 'Acme' }, 'External_Id__c');
    expect(created).toMatchObject({ success: true, created: true, id: expect.stringMatching(/^001/) });
    const updated = await accounts.upsert({ External_Id__c: 'ext-1', Industry: 'Retail' }, 'External_Id__c');
    expect(updated).toEqual({ id: created.id, success: true, errors: [], created: false });
    const old = await loggedIn(sim.url, '45.0');
    expect(
      await old.sobject('Account').upsert({ External_Id__c: 'ext-1', Phone: '1' }, 'External_Id__c'),
    ).toEqual({
      success: true,
      errors: [],
    });
    // by external id: jsforce reads a record through the same resource
    const byExternalId = await conn.request(`/sobjects/Account/External_Id__c/ext-1`);
    expect(byExternalId).toMatchObject({ Id: created.id, Name: 'Acme', Industry: 'Retail', Phone: '1' });
    await conn.request({
      method: 'PATCH',
      url: `/sobjects/Account/${created.id}`,
      body: JSON.stringify({ External_Id__c: null }),
      headers: { 'content-type': 'application/json' },
    });
    await accounts.create([
      { Name: 'Twin 1', External_Id__c: 'twin' },
      { Name: 'Twin 2', External_Id__c: 'TWIN' },
    ]);
    const twins = await rejectionOf(accounts.upsert({ External_Id__c: 'twin', Name: 'x' }, 'External_Id__c'));
    expect(twins.errorCode).toBe('MULTIPLE_CHOICES');
    expect(twins.data).toHaveLength(2);
  });

  it.each([
    ['Task', '00T', { Subject: 'Call back' }, { Status: 'Completed' }],
    ['Case', '500', { Subject: 'Printer on fire' }, { Status: 'Closed' }],
    [
      'Opportunity',
      '006',
      { Name: 'Big deal', StageName: 'Prospecting', CloseDate: '2030-06-30' },
      { Amount: 5000 },
    ],
  ])(
    '%s: upsert by External_Id__c creates (201), updates (200) and answers 300 for several matches',
    async (type, prefix, fields, changes) => {
      await using sim = await startSalesforce();
      const conn = await loggedIn(sim.url);
      const sobject = conn.sobject(type);
      const field = (await sobject.describe()).fields.find((f) => f.name === 'External_Id__c');
      expect(field).toMatchObject({ externalId: true, idLookup: true, custom: true, type: 'string' });
      const created = await sobject.upsert({ External_Id__c: 'ext-1', ...fields }, 'External_Id__c');
      expect(created).toMatchObject({
        success: true,
        created: true,
        id: expect.stringMatching(new RegExp(`^${prefix}`)),
      });
      const updated = await sobject.upsert({ External_Id__c: 'ext-1', ...changes }, 'External_Id__c');
      expect(updated).toEqual({ id: created.id, success: true, errors: [], created: false });
      expect(await conn.request(`/sobjects/${type}/External_Id__c/ext-1`)).toMatchObject({
        Id: created.id,
        ...fields,
        ...changes,
      });
      await sobject.create([
        { ...fields, External_Id__c: 'twin' },
        { ...fields, External_Id__c: 'TWIN' },
      ]);
      const twins = await rejectionOf(
        sobject.upsert({ External_Id__c: 'twin', ...changes }, 'External_Id__c'),
      );
      expect(twins.errorCode).toBe('MULTIPLE_CHOICES');
      expect(twins.data).toHaveLength(2);
    },
  );

  it('describe and describeGlobal read as jsforce expects; an unknown object is NOT_FOUND', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const global = await conn.describeGlobal();
    expect(global.sobjects.map((s) => s.name)).toEqual(['Account', 'Contact', 'Task', 'Case', 'Opportunity']);
    const contact = await conn.sobject('Contact').describe();
    expect(contact).toMatchObject({ name: 'Contact', keyPrefix: '003', createable: true });
    expect(contact.fields.find((f) => f.name === 'LastName')).toMatchObject({
      nillable: false,
      type: 'string',
    });
    expect((await rejectionOf(conn.sobject('Lead').describe())).errorCode).toBe('NOT_FOUND');
  });

  it('REQUIRED_FIELD_MISSING, INVALID_FIELD and MALFORMED_ID reach jsforce with their fields', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const missing = await rejectionOf(conn.sobject('Opportunity').create({ Name: 'no stage' }));
    expect(missing).toMatchObject({
      errorCode: 'REQUIRED_FIELD_MISSING',
      message: 'Required fields are missing: [StageName, CloseDate]',
      data: { fields: ['StageName', 'CloseDate'] },
    });
    expect((await rejectionOf(conn.sobject('Account').create({ Name: 'x', Nope: 1 }))).errorCode).toBe(
      'INVALID_FIELD',
    );
    const badReference = await rejectionOf(
      conn.sobject('Contact').create({ LastName: 'x', AccountId: 'nope' }),
    );
    expect(badReference).toMatchObject({ errorCode: 'MALFORMED_ID', data: { fields: ['AccountId'] } });
  });
});

describe('jsforce arrays: sObject Collections', () => {
  it('create, retrieve, update, upsert and destroy arrays in one call each', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const contacts = conn.sobject('Contact');
    const created = await contacts.create([
      { LastName: 'One' },
      { LastName: 'Two' },
      { FirstName: 'No last name' },
    ]);
    expect(created.map((r) => r.success)).toEqual([true, true, false]);
    expect(created[2]).toMatchObject({
      errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] }],
    });
    const ids = created.filter((r) => r.success).map((r) => r.id!);
    const records = await contacts.retrieve(ids);
    expect(records.map((r) => r.LastName)).toEqual(['One', 'Two']);
    const updated = await contacts.update(ids.map((Id, i) => ({ Id, Title: `Title ${i}` })));
    expect(updated.every((r) => r.success)).toBe(true);
    const upserted = await contacts.upsert(
      [
        { External_Id__c: 'c-1', LastName: 'New' },
        { External_Id__c: 'c-1', LastName: 'Again' },
      ],
      'External_Id__c',
    );
    expect(upserted.map((r) => (r as { created?: boolean }).created)).toEqual([true, false]);
    const destroyed = await contacts.destroy(ids);
    expect(destroyed).toEqual(ids.map((id) => ({ id, success: true, errors: [] })));
    expect(
      sim.state.org.store.records(sim.state.org.schema.object('Contact')!).map((r) => r.LastName),
    ).toEqual(['Again']);
  });

  it('allOrNone rolls every record back when one fails', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const results = await conn
      .sobject('Account')
      .create([{ Name: 'Good' }, { Industry: 'Retail' }], { allOrNone: true });
    expect(results.map((r) => (r.errors[0] as { statusCode?: string } | undefined)?.statusCode)).toEqual([
      'ALL_OR_NONE_OPERATION_ROLLED_BACK',
      'REQUIRED_FIELD_MISSING',
    ]);
    expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(0);
  });
});
