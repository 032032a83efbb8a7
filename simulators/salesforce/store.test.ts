import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { upsertResponse } from './present.ts';
import { createSchema } from './schema.ts';
import { createStore } from './store.ts';
import { errorOf } from './test-support.ts';

const userId = '0058d0000000001AAA';

function setup() {
  const clock = createManualClock(Date.parse('2025-03-01T10:00:00Z'));
  const store = createStore({ schema: createSchema(), clock, defaultUserId: userId });
  return { clock, store };
}

describe('store: create and retrieve', () => {
  it('fills system fields from the clock, defaults, derived fields, and canonical field names', () => {
    const { store } = setup();
    const accountId = store.create('account', { name: 'Acme' });
    const contactId = store.create('Contact', {
      firstname: 'Ada',
      LastName: 'Lovelace',
      AccountId: accountId,
    });
    expect(accountId).toMatch(/^001[A-Za-z0-9]{15}$/);
    expect(store.retrieve('Contact', contactId)).toMatchObject({
      Id: contactId,
      IsDeleted: false,
      OwnerId: userId,
      CreatedById: userId,
      CreatedDate: '2025-03-01T10:00:00.000+0000',
      LastModifiedDate: '2025-03-01T10:00:00.000+0000',
      FirstName: 'Ada',
      Name: 'Ada Lovelace',
      AccountId: accountId,
      Email: null,
    });
    const taskId = store.create('Task', { Subject: 'Card expired', WhatId: accountId });
    expect(store.retrieve('Task', taskId)).toMatchObject({
      Status: 'Not Started',
      Priority: 'Normal',
      IsClosed: false,
    });
    const caseIds = [
      store.create('Case', { Subject: 'a' }),
      store.create('Case', { Subject: 'b', Status: 'Closed' }),
    ];
    expect(caseIds.map((id) => store.retrieve('Case', id, ['CaseNumber', 'IsClosed']))).toEqual([
      { CaseNumber: '00001001', IsClosed: false },
      { CaseNumber: '00001002', IsClosed: true },
    ]);
  });

  it('retrieves only the fields asked for, and refuses an unknown one', () => {
    const { store } = setup();
    const id = store.create('Account', { Name: 'Acme', Industry: 'Retail' });
    expect(store.retrieve('Account', id, ['name', 'Industry'])).toEqual({ Name: 'Acme', Industry: 'Retail' });
    expect(errorOf(() => store.retrieve('Account', id, ['Nope'])).errorCode).toBe('INVALID_FIELD');
  });

  it('answers NOT_FOUND for an unknown object, an unknown id and a malformed id; accepts a 15-character id', () => {
    const { store } = setup();
    const id = store.create('Account', { Name: 'Acme' });
    expect(errorOf(() => store.retrieve('Widget', id)).status).toBe(404);
    expect(errorOf(() => store.retrieve('Account', '001000000000000AAA')).toBody()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
    expect(errorOf(() => store.retrieve('Account', 'garbage')).errorCode).toBe('NOT_FOUND');
    expect(store.retrieve('Account', id.slice(0, 15)).Id).toBe(id);
  });
});

describe('store: validation errors', () => {
  it('REQUIRED_FIELD_MISSING names every missing required field', () => {
    const { store } = setup();
    const error = errorOf(() => store.create('Opportunity', { Amount: 5 }));
    expect(error.status).toBe(400);
    expect(error.toBody()).toEqual([
      {
        errorCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [Name, StageName, CloseDate]',
        fields: ['Name', 'StageName', 'CloseDate'],
      },
    ]);
  });

  it('INVALID_FIELD for an unknown field, INVALID_FIELD_FOR_INSERT_UPDATE for a read-only one', () => {
    const { store } = setup();
    expect(errorOf(() => store.create('Account', { Name: 'A', Colour: 'red' })).toBody()).toEqual([
      { errorCode: 'INVALID_FIELD', message: "No such column 'Colour' on sobject of type Account" },
    ]);
    const readOnly = errorOf(() =>
      store.create('Account', { Name: 'A', CreatedDate: '2020-01-01T00:00:00Z' }),
    );
    expect(readOnly.errors[0]).toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      fields: ['CreatedDate'],
    });
  });

  it('INVALID_TYPE_ON_FIELD_IN_RECORD for values of the wrong type; numbers and booleans as text are accepted', () => {
    const { store } = setup();
    expect(
      errorOf(() => store.create('Account', { Name: 'A', NumberOfEmployees: 'many' })).errors[0],
    ).toEqual({
      errorCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD',
      message: 'Employees: value not of required type: many',
      fields: ['NumberOfEmployees'],
    });
    expect(errorOf(() => store.create('Account', { Name: 'A', NumberOfEmployees: 1.5 })).errorCode).toBe(
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
    );
    expect(errorOf(() => store.create('Task', { ActivityDate: 'tomorrow' })).errorCode).toBe(
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
    );
    const id = store.create('Opportunity', {
      Name: 'Deal',
      StageName: 'Prospecting',
      CloseDate: '2025-04-01',
      Amount: '12.5',
    });
    expect(store.retrieve('Opportunity', id, ['Amount', 'IsClosed'])).toEqual({
      Amount: 12.5,
      IsClosed: false,
    });
  });

  it('checks references: malformed, wrong object, missing', () => {
    const { store } = setup();
    const taskId = store.create('Task', { Subject: 'x' });
    expect(errorOf(() => store.create('Contact', { LastName: 'A', AccountId: 'nope' })).errorCode).toBe(
      'MALFORMED_ID',
    );
    expect(errorOf(() => store.create('Contact', { LastName: 'A', AccountId: taskId })).errorCode).toBe(
      'FIELD_INTEGRITY_EXCEPTION',
    );
    expect(
      errorOf(() => store.create('Contact', { LastName: 'A', AccountId: '001000000000009AAA' })).errorCode,
    ).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  it('checks emails and text lengths', () => {
    const { store } = setup();
    expect(
      errorOf(() => store.create('Contact', { LastName: 'A', Email: 'not-an-email' })).errors[0],
    ).toMatchObject({
      errorCode: 'INVALID_EMAIL_ADDRESS',
      fields: ['Email'],
    });
    expect(errorOf(() => store.create('Account', { Name: 'x'.repeat(256) })).errorCode).toBe(
      'STRING_TOO_LONG',
    );
  });
});

describe('store: update and delete', () => {
  it('PATCH changes only the given fields and moves LastModifiedDate; null clears; required fields stay required', () => {
    const { store, clock } = setup();
    const id = store.create('Contact', { FirstName: 'Ada', LastName: 'Byron', Phone: '123' });
    clock.advance(60_000);
    store.update('Contact', id, { LastName: 'Lovelace', Phone: null });
    expect(store.retrieve('Contact', id)).toMatchObject({
      FirstName: 'Ada',
      LastName: 'Lovelace',
      Name: 'Ada Lovelace',
      Phone: null,
      CreatedDate: '2025-03-01T10:00:00.000+0000',
      LastModifiedDate: '2025-03-01T10:01:00.000+0000',
    });
    expect(errorOf(() => store.update('Contact', id, { LastName: '' })).errorCode).toBe(
      'REQUIRED_FIELD_MISSING',
    );
    expect(errorOf(() => store.update('Contact', id, { Name: 'X' })).errorCode).toBe(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
    );
  });

  it('delete puts the record in the recycle bin: ENTITY_IS_DELETED afterwards, still in the snapshot', () => {
    const { store } = setup();
    const id = store.create('Account', { Name: 'Acme' });
    store.delete('Account', id);
    expect(errorOf(() => store.retrieve('Account', id)).toBody()).toEqual([
      { errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] },
    ]);
    expect(errorOf(() => store.delete('Account', id)).status).toBe(404);
    expect(errorOf(() => store.update('Account', id, { Name: 'B' })).errorCode).toBe('ENTITY_IS_DELETED');
    expect(store.snapshot().Account).toEqual([expect.objectContaining({ Id: id, IsDeleted: true })]);
  });
});

describe('store: upsert by external id', () => {
  it('creates (201), then updates (200 with created:false, 204 before v46), then reports several matches (300)', () => {
    const { store } = setup();
    const created = store.upsert('Account', 'External_Id__c', 'cust-1', { Name: 'Acme' });
    expect(created.outcome).toBe('created');
    if (created.outcome !== 'created') return;
    expect(store.retrieve('Account', created.id, ['External_Id__c'])).toEqual({ External_Id__c: 'cust-1' });
    expect(upsertResponse('Account', created, '62.0')).toEqual({
      status: 201,
      body: { id: created.id, success: true, errors: [], created: true },
      headers: { Location: `/services/data/v62.0/sobjects/Account/${created.id}` },
    });

    // external ids match case-insensitively
    const updated = store.upsert('Account', 'external_id__c', 'CUST-1', { Industry: 'Retail' });
    expect(updated).toEqual({ outcome: 'updated', id: created.id });
    expect(store.retrieve('Account', created.id, ['Name', 'Industry'])).toEqual({
      Name: 'Acme',
      Industry: 'Retail',
    });
    expect(upsertResponse('Account', updated, '62.0')).toEqual({
      status: 200,
      body: { id: created.id, success: true, errors: [], created: false },
    });
    expect(upsertResponse('Account', updated, '45.0')).toEqual({ status: 204, body: undefined });

    const twin = store.create('Account', { Name: 'Acme twin', External_Id__c: 'cust-1' });
    const multiple = store.upsert('Account', 'External_Id__c', 'cust-1', { Name: 'Which?' });
    expect(multiple).toEqual({ outcome: 'multiple', ids: [created.id, twin] });
    expect(upsertResponse('Account', multiple, '62.0')).toEqual({
      status: 300,
      body: [
        `/services/data/v62.0/sobjects/Account/${created.id}`,
        `/services/data/v62.0/sobjects/Account/${twin}`,
      ],
    });
    expect(store.retrieve('Account', twin, ['Name'])).toEqual({ Name: 'Acme twin' });
  });

  it('validates the body as a create when nothing matches, and refuses a field that is no external id', () => {
    const { store } = setup();
    expect(
      errorOf(() => store.upsert('Contact', 'External_Id__c', 'c-1', { FirstName: 'A' })).errorCode,
    ).toBe('REQUIRED_FIELD_MISSING');
    expect(errorOf(() => store.upsert('Contact', 'Email', 'a@b.co', { LastName: 'A' })).toBody()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
    expect(errorOf(() => store.findByExternalId('Contact', 'Email', 'a@b.co')).errors[0]!.message).toBe(
      'Provided external ID field does not exist or is not accessible: Email',
    );
  });
});

describe('store: transactions, snapshot, reset', () => {
  it('rollback undoes creates, updates and deletes; commit keeps them', () => {
    const { store } = setup();
    const kept = store.create('Account', { Name: 'Kept' });
    const tx = store.beginTransaction();
    store.create('Account', { Name: 'Temporary' });
    store.update('Account', kept, { Name: 'Renamed' });
    store.delete('Account', kept);
    tx.rollback();
    expect(store.snapshot().Account).toEqual([
      expect.objectContaining({ Id: kept, Name: 'Kept', IsDeleted: false }),
    ]);

    const tx2 = store.beginTransaction();
    store.update('Account', kept, { Name: 'Committed' });
    tx2.commit();
    expect(store.retrieve('Account', kept, ['Name'])).toEqual({ Name: 'Committed' });
  });

  it('reset empties the org and restarts ids', () => {
    const { store } = setup();
    const first = store.create('Account', { Name: 'A' });
    store.reset();
    expect(store.snapshot()).toEqual({ Account: [], Contact: [], Task: [], Case: [], Opportunity: [] });
    expect(store.create('Account', { Name: 'B' })).toBe(first);
  });
});
