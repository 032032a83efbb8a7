// The CRM side of billing (Salesforce through jsforce). Every record is written by upsert on
// `External_Id__c`, a key of ours: a retried step, a crash between the call and its commit, or a
// second flow for the same thing updates the one record instead of making another.
import type { SalesforceClient } from '../vendors/index.ts';

/** Names Salesforce's error code in the message, so a parked or retried step says what Salesforce said. */
function salesforceError(error: unknown): never {
  const e = error as { errorCode?: string; message?: string };
  if (e.errorCode && !e.message?.includes(e.errorCode)) {
    throw Object.assign(new Error(`Salesforce ${e.errorCode}: ${e.message}`), { errorCode: e.errorCode });
  }
  throw error;
}

interface UpsertResult {
  id?: string;
  success: boolean;
  errors?: unknown[];
}

async function upsert(
  salesforce: SalesforceClient,
  type: 'Account' | 'Task' | 'Opportunity',
  record: Record<string, unknown> & { External_Id__c: string },
): Promise<string> {
  const result = (await salesforce
    .run((connection) => connection.sobject(type).upsert(record, 'External_Id__c'))
    .catch(salesforceError)) as UpsertResult;
  if (result.success && result.id) return result.id;
  // an upsert that updated answers without the id before API 46.0: read it by the external id
  if (result.success) {
    const soql = `SELECT Id FROM ${type} WHERE External_Id__c = '${record.External_Id__c.replaceAll("'", "\\'")}'`;
    const found = await salesforce.run(async (connection) => await connection.query<{ Id: string }>(soql));
    if (found.records[0]) return found.records[0].Id;
  }
  throw new Error(`Salesforce did not save the ${type} ${record.External_Id__c}: ${JSON.stringify(result)}`);
}

/** The organization's Account (external id: the organization id); its owner is the account's owner. */
export const upsertAccount = (
  salesforce: SalesforceClient,
  org: { id: string; name: string; ownerEmail: string | null },
) =>
  upsert(salesforce, 'Account', {
    External_Id__c: `org:${org.id}`,
    Name: org.name,
    Type: 'Customer - Direct',
    Description: `Planewright organization ${org.id}${org.ownerEmail ? `; owner ${org.ownerEmail}` : ''}`,
  });

/** The Salesforce user who owns an Account: tasks about the customer go to them. */
export async function accountOwner(salesforce: SalesforceClient, accountId: string): Promise<string> {
  const account = (await salesforce
    .run((connection) => connection.sobject('Account').retrieve(accountId))
    .catch(salesforceError)) as { OwnerId?: string };
  if (!account.OwnerId) throw new Error(`Salesforce Account ${accountId} has no owner`);
  return account.OwnerId;
}

export const upsertTask = (
  salesforce: SalesforceClient,
  task: {
    externalId: string;
    accountId: string;
    ownerId: string;
    subject: string;
    description: string;
    status: 'Not Started' | 'Completed';
    dueDate: string;
  },
) =>
  upsert(salesforce, 'Task', {
    External_Id__c: task.externalId,
    WhatId: task.accountId,
    OwnerId: task.ownerId,
    Subject: task.subject,
    Description: task.description,
    Status: task.status,
    Priority: 'High',
    ActivityDate: task.dueDate,
  });

export const upsertOpportunity = (
  salesforce: SalesforceClient,
  opportunity: {
    externalId: string;
    accountId: string;
    name: string;
    stage: 'Prospecting' | 'Closed Won';
    amount: number;
    closeDate: string;
  },
) =>
  upsert(salesforce, 'Opportunity', {
    External_Id__c: opportunity.externalId,
    AccountId: opportunity.accountId,
    Name: opportunity.name,
    StageName: opportunity.stage,
    Amount: opportunity.amount,
    CloseDate: opportunity.closeDate,
  });
