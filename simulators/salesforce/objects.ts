import { keyPrefixes } from './ids.ts';
import type { FieldDef, SObjectDef } from './schema.ts';

// Builders keep each object's definition to one line per field; the flags are describe's.
const writable = { nillable: true, createable: true, updateable: true };
const readOnly = { nillable: true, createable: false, updateable: false };
const text = (name: string, label: string, length = 255, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  label,
  type: 'string',
  length,
  ...writable,
  ...extra,
});
const typed = (
  name: string,
  label: string,
  type: FieldDef['type'],
  extra: Partial<FieldDef> = {},
): FieldDef => ({
  name,
  label,
  type,
  ...writable,
  ...extra,
});
const picklist = (name: string, label: string, values: string[], extra: Partial<FieldDef> = {}): FieldDef =>
  typed(name, label, 'picklist', { length: 255, picklistValues: values, ...extra });
const lookup = (name: string, label: string, to: string[], relationshipName: string): FieldDef =>
  typed(name, label, 'reference', { length: 18, referenceTo: to, relationshipName });
const longText = (name: string, label: string): FieldDef =>
  typed(name, label, 'textarea', { length: 32000, filterable: false });
const externalId = (): FieldDef =>
  text('External_Id__c', 'External Id', 255, { externalId: true, idLookup: true, custom: true });

/** Fields every object has: the id, audit fields, the deleted flag and the owner. */
const systemFields = (): FieldDef[] => [
  typed('Id', 'Record ID', 'id', { ...readOnly, nillable: false, defaultedOnCreate: true, idLookup: true }),
  typed('IsDeleted', 'Deleted', 'boolean', { ...readOnly, nillable: false, defaultedOnCreate: true }),
  typed('OwnerId', 'Owner ID', 'reference', {
    nillable: false,
    createable: true,
    updateable: true,
    defaultedOnCreate: true,
    length: 18,
    referenceTo: ['User'],
    relationshipName: 'Owner',
  }),
  typed('CreatedDate', 'Created Date', 'datetime', { ...readOnly, nillable: false, defaultedOnCreate: true }),
  lookupReadOnly('CreatedById', 'Created By ID', 'CreatedBy'),
  typed('LastModifiedDate', 'Last Modified Date', 'datetime', {
    ...readOnly,
    nillable: false,
    defaultedOnCreate: true,
  }),
  lookupReadOnly('LastModifiedById', 'Last Modified By ID', 'LastModifiedBy'),
  typed('SystemModstamp', 'System Modstamp', 'datetime', {
    ...readOnly,
    nillable: false,
    defaultedOnCreate: true,
  }),
];

function lookupReadOnly(name: string, label: string, relationshipName: string): FieldDef {
  return typed(name, label, 'reference', {
    ...readOnly,
    nillable: false,
    defaultedOnCreate: true,
    length: 18,
    referenceTo: ['User'],
    relationshipName,
  });
}

const account: SObjectDef = {
  name: 'Account',
  label: 'Account',
  labelPlural: 'Accounts',
  keyPrefix: keyPrefixes.Account,
  fields: [
    ...systemFields(),
    text('Name', 'Account Name', 255, { nillable: false, nameField: true }),
    picklist('Type', 'Account Type', [
      'Prospect',
      'Customer - Direct',
      'Customer - Channel',
      'Partner',
      'Other',
    ]),
    picklist('Industry', 'Industry', ['Technology', 'Finance', 'Healthcare', 'Retail', 'Other']),
    typed('Phone', 'Account Phone', 'phone', { length: 40 }),
    typed('Website', 'Website', 'url', { length: 255 }),
    typed('AnnualRevenue', 'Annual Revenue', 'currency'),
    typed('NumberOfEmployees', 'Employees', 'int'),
    text('BillingCity', 'Billing City', 40),
    text('BillingCountry', 'Billing Country', 80),
    longText('Description', 'Account Description'),
    externalId(),
  ],
};

const contact: SObjectDef = {
  name: 'Contact',
  label: 'Contact',
  labelPlural: 'Contacts',
  keyPrefix: keyPrefixes.Contact,
  fields: [
    ...systemFields(),
    lookup('AccountId', 'Account ID', ['Account'], 'Account'),
    text('FirstName', 'First Name', 40),
    text('LastName', 'Last Name', 80, { nillable: false }),
    text('Name', 'Full Name', 121, { ...readOnly, nillable: false, nameField: true, calculated: true }),
    typed('Email', 'Email', 'email', { length: 80 }),
    typed('Phone', 'Business Phone', 'phone', { length: 40 }),
    text('Title', 'Title', 128),
    longText('Description', 'Contact Description'),
    externalId(),
  ],
  derive: (r) => {
    r.Name = [r.FirstName, r.LastName].filter((part) => part != null && part !== '').join(' ');
  },
};

const task: SObjectDef = {
  name: 'Task',
  label: 'Task',
  labelPlural: 'Tasks',
  keyPrefix: keyPrefixes.Task,
  fields: [
    ...systemFields(),
    typed('Subject', 'Subject', 'combobox', { length: 255, nameField: true }),
    picklist(
      'Status',
      'Status',
      ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'],
      {
        nillable: false,
        defaultedOnCreate: true,
        defaultValue: 'Not Started',
      },
    ),
    picklist('Priority', 'Priority', ['High', 'Normal', 'Low'], {
      nillable: false,
      defaultedOnCreate: true,
      defaultValue: 'Normal',
    }),
    typed('ActivityDate', 'Due Date Only', 'date'),
    lookup('WhoId', 'Name ID', ['Contact'], 'Who'),
    lookup('WhatId', 'Related To ID', ['Account', 'Opportunity', 'Case'], 'What'),
    typed('IsClosed', 'Closed', 'boolean', { ...readOnly, nillable: false, calculated: true }),
    longText('Description', 'Description'),
    externalId(),
  ],
  derive: (r) => {
    r.IsClosed = r.Status === 'Completed';
  },
};

const caseObject: SObjectDef = {
  name: 'Case',
  label: 'Case',
  labelPlural: 'Cases',
  keyPrefix: keyPrefixes.Case,
  fields: [
    ...systemFields(),
    text('CaseNumber', 'Case Number', 30, {
      ...readOnly,
      nillable: false,
      autoNumber: true,
      nameField: true,
    }),
    lookup('AccountId', 'Account ID', ['Account'], 'Account'),
    lookup('ContactId', 'Contact ID', ['Contact'], 'Contact'),
    text('Subject', 'Subject', 255),
    picklist('Status', 'Status', ['New', 'Working', 'Escalated', 'Closed'], {
      nillable: false,
      defaultedOnCreate: true,
      defaultValue: 'New',
    }),
    picklist('Priority', 'Priority', ['High', 'Medium', 'Low'], {
      defaultedOnCreate: true,
      defaultValue: 'Medium',
    }),
    picklist('Origin', 'Case Origin', ['Phone', 'Email', 'Web']),
    typed('IsClosed', 'Closed', 'boolean', { ...readOnly, nillable: false, calculated: true }),
    longText('Description', 'Description'),
    externalId(),
  ],
  derive: (r) => {
    r.IsClosed = r.Status === 'Closed';
  },
};

const closedStages = ['Closed Won', 'Closed Lost'];
const opportunity: SObjectDef = {
  name: 'Opportunity',
  label: 'Opportunity',
  labelPlural: 'Opportunities',
  keyPrefix: keyPrefixes.Opportunity,
  fields: [
    ...systemFields(),
    lookup('AccountId', 'Account ID', ['Account'], 'Account'),
    text('Name', 'Name', 120, { nillable: false, nameField: true }),
    picklist(
      'StageName',
      'Stage',
      ['Prospecting', 'Qualification', 'Proposal/Price Quote', 'Negotiation/Review', ...closedStages],
      { nillable: false },
    ),
    typed('CloseDate', 'Close Date', 'date', { nillable: false }),
    typed('Amount', 'Amount', 'currency'),
    typed('Probability', 'Probability (%)', 'percent'),
    typed('IsClosed', 'Closed', 'boolean', { ...readOnly, nillable: false, calculated: true }),
    typed('IsWon', 'Won', 'boolean', { ...readOnly, nillable: false, calculated: true }),
    longText('Description', 'Description'),
    externalId(),
  ],
  derive: (r) => {
    r.IsClosed = closedStages.includes(String(r.StageName));
    r.IsWon = r.StageName === 'Closed Won';
  },
};

/** Account, Contact, Task, Case and Opportunity: the objects a control plane's CRM flows touch. */
export const standardObjects: SObjectDef[] = [account, contact, task, caseObject, opportunity];
