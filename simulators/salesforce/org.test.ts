import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { resolveConfig, SalesforceConfigError } from './config.ts';
import { createSalesforceOrg } from './org.ts';
import { errorOf } from './test-support.ts';

describe('configuration', () => {
  it('has documented defaults: one admin, one connected app, 15000 calls, pages of 2000, 2-hour sessions', () => {
    const config = resolveConfig();
    expect(config).toMatchObject({
      users: [
        { username: 'admin@planewright.test', password: 'planewright', email: 'admin@planewright.test' },
      ],
      connectedApps: [
        {
          clientId: 'planewright-client',
          clientSecret: 'planewright-secret',
          runAs: 'admin@planewright.test',
        },
      ],
      dailyApiLimit: 15_000,
      queryBatchSize: 2000,
      sessionTimeoutMs: 7_200_000,
    });
    expect(config.users[0]!.id).toMatch(/^005[A-Za-z0-9]{15}$/);
    expect(config.orgId).toMatch(/^00D[A-Za-z0-9]{15}$/);
    expect(resolveConfig()).toEqual(config);
  });

  it.each([
    [{ users: [] }, 'users is empty'],
    [{ users: [{ username: '', password: 'x' }] }, 'users[0] needs a username and a password'],
    [{ users: [{ username: 'a', password: 'x', id: '001000000000001' }] }, 'is no 005… user id'],
    [
      {
        users: [
          { username: 'a', password: 'x' },
          { username: 'A', password: 'y' },
        ],
      },
      'share a username',
    ],
    [
      { connectedApps: [{ clientId: 'c', clientSecret: 's', runAs: 'ghost' }] },
      'runAs ghost is not one of the users',
    ],
    [{ dailyApiLimit: 0 }, 'dailyApiLimit is 0'],
    [{ queryBatchSize: 2.5 }, 'queryBatchSize is 2.5'],
    [{ orgId: 'nope' }, 'orgId nope is no 00D'],
  ])('refuses %j with a message that names the value', (config, message) => {
    expect(() => resolveConfig(config)).toThrow(SalesforceConfigError);
    expect(() => resolveConfig(config)).toThrow(message);
  });
});

describe('the org', () => {
  it('describes objects as jsforce reads them, and answers NOT_FOUND for unknown ones', () => {
    const org = createSalesforceOrg();
    const contact = org.describe('contact', '62.0');
    expect(contact).toMatchObject({
      name: 'Contact',
      keyPrefix: '003',
      createable: true,
      urls: {
        sobject: '/services/data/v62.0/sobjects/Contact',
        rowTemplate: '/services/data/v62.0/sobjects/Contact/{ID}',
      },
    });
    const field = (name: string) => contact.fields.find((f) => f.name === name);
    expect(field('LastName')).toMatchObject({
      type: 'string',
      length: 80,
      nillable: false,
      createable: true,
    });
    expect(field('Name')).toMatchObject({
      createable: false,
      updateable: false,
      calculated: true,
      nameField: true,
    });
    expect(field('AccountId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account',
    });
    expect(field('External_Id__c')).toMatchObject({ externalId: true, idLookup: true, custom: true });
    expect(field('Description')).toMatchObject({ type: 'textarea', filterable: false, sortable: false });
    expect(org.describe('Task', '62.0').fields.find((f) => f.name === 'Status')).toMatchObject({
      defaultedOnCreate: true,
      defaultValue: 'Not Started',
      picklistValues: expect.arrayContaining([
        expect.objectContaining({ value: 'Not Started', defaultValue: true }),
      ]),
    });
    expect(
      org.describe('Account', '62.0').childRelationships.map((r) => `${r.childSObject}.${r.field}`),
    ).toEqual(['Contact.AccountId', 'Task.WhatId', 'Case.AccountId', 'Opportunity.AccountId']);
    expect(org.describeGlobal('62.0').sobjects.map((s) => s.name)).toEqual([
      'Account',
      'Contact',
      'Task',
      'Case',
      'Opportunity',
    ]);
    expect(errorOf(() => org.describe('Lead', '62.0')).toBody()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
  });

  it('snapshot shows records, usage and sessions; reset returns to the configured start', () => {
    const org = createSalesforceOrg({ clock: createManualClock(), config: { queryBatchSize: 1 } });
    org.store.create('Account', { Name: 'A' });
    org.store.create('Account', { Name: 'B' });
    org.limits.consume();
    org.oauth.token(
      {
        grant_type: 'client_credentials',
        client_id: 'planewright-client',
        client_secret: 'planewright-secret',
      },
      {
        instanceUrl: 'http://127.0.0.1:1',
      },
    );
    const page = org.query('SELECT Name FROM Account', { apiVersion: '62.0' });
    expect(page.done).toBe(false);
    expect(org.snapshot()).toMatchObject({
      records: { Account: [{ Name: 'A' }, { Name: 'B' }] },
      apiUsage: { used: 1, max: 15_000, remaining: 14_999 },
      auth: { sessions: [{ username: 'admin@planewright.test' }] },
      openQueryCursors: 1,
    });
    org.reset();
    expect(org.snapshot()).toEqual({
      records: { Account: [], Contact: [], Task: [], Case: [], Opportunity: [] },
      apiUsage: { used: 0, max: 15_000, remaining: 15_000 },
      auth: { sessions: [], refreshTokens: 0 },
      openQueryCursors: 0,
    });
    expect(errorOf(() => org.queryMore(page.nextRecordsUrl!, '62.0')).errorCode).toBe(
      'INVALID_QUERY_LOCATOR',
    );
  });
});
