import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { createSalesforceOrg } from './org.ts';
import { errorOf } from './test-support.ts';

const setup = () => createSalesforceOrg({ clock: createManualClock() });
const account = (fields: Record<string, unknown>) => ({ attributes: { type: 'Account' }, ...fields });

describe('sObject collections', () => {
  it('creates records of several types in order; a failed record fails alone without allOrNone', () => {
    const org = setup();
    const results = org.collections.create({
      records: [
        account({ Name: 'Acme' }),
        { attributes: { type: 'Contact' }, FirstName: 'No last name' },
        { attributes: { type: 'Contact' }, LastName: 'Lovelace' },
      ],
    });
    expect(results).toEqual([
      { id: expect.stringMatching(/^001/), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: 'REQUIRED_FIELD_MISSING',
            message: 'Required fields are missing: [LastName]',
            fields: ['LastName'],
          },
        ],
      },
      { id: expect.stringMatching(/^003/), success: true, errors: [] },
    ]);
    expect(org.store.snapshot().Contact).toHaveLength(1);
  });

  it('with allOrNone tries every record, then rolls all back and marks the valid ones', () => {
    const org = setup();
    const results = org.collections.create({
      allOrNone: true,
      records: [account({ Name: 'A' }), account({}), account({ Name: 'C', Nope: 1 })],
    });
    expect(results.map((r) => [r.success, r.errors[0]?.statusCode])).toEqual([
      [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
      [false, 'REQUIRED_FIELD_MISSING'],
      [false, 'INVALID_FIELD'],
    ]);
    expect(org.store.snapshot().Account).toEqual([]);
  });

  it('updates by id, upserts by external id, retrieves with nulls for missing ids, deletes by id', () => {
    const org = setup();
    const [a, b] = org.collections.create({ records: [account({ Name: 'A' }), account({ Name: 'B' })] });
    expect(
      org.collections.update({
        records: [
          { id: a!.id, attributes: { type: 'Account' }, Industry: 'Retail' },
          { attributes: { type: 'Account' }, Name: 'no id' },
        ],
      }),
    ).toEqual([
      { id: a!.id, success: true, errors: [] },
      {
        success: false,
        errors: [
          { statusCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] },
        ],
      },
    ]);
    const upserted = org.collections.upsert('Account', 'External_Id__c', {
      records: [
        account({ External_Id__c: 'ext-1', Name: 'Ext' }),
        account({ External_Id__c: 'ext-1', Name: 'Ext 2' }),
      ],
    });
    expect(upserted.map((r) => [r.success, r.created])).toEqual([
      [true, true],
      [true, false],
    ]);
    const missing = '001000000000000AAA';
    expect(org.collections.retrieve('Account', [a!.id!, missing], ['Name', 'Industry'], '62.0')).toEqual([
      {
        attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${a!.id}` },
        Name: 'A',
        Industry: 'Retail',
      },
      null,
    ]);
    expect(errorOf(() => org.collections.retrieve('Account', [a!.id!], ['Nope'], '62.0')).errorCode).toBe(
      'INVALID_FIELD',
    );
    const deleted = org.collections.delete([b!.id!, b!.id!, 'garbage'], false);
    expect(deleted.map((r) => r.success || r.errors[0]!.statusCode)).toEqual([
      true,
      'ENTITY_IS_DELETED',
      'MALFORMED_ID',
    ]);
  });

  it('refuses a malformed body, more than 200 records, or an upsert field that is no external id', () => {
    const org = setup();
    expect(errorOf(() => org.collections.create({ records: 'x' })).errorCode).toBe('JSON_PARSER_ERROR');
    const many = Array.from({ length: 201 }, (_, i) => account({ Name: `A${i}` }));
    expect(errorOf(() => org.collections.create({ records: many })).errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect(errorOf(() => org.collections.upsert('Account', 'Name', { records: [] })).errorCode).toBe(
      'INVALID_FIELD',
    );
  });
});
