// `POST /composite` through jsforce's requestPost: subrequests that reference each other, run
// through the same resources as HTTP calls, counted as one call.
import { describe, expect, it } from 'vitest';
import { loggedIn, startSalesforce } from './testing.ts';

type CompositeAnswer = {
  compositeResponse: {
    body: any;
    httpHeaders: Record<string, string>;
    httpStatusCode: number;
    referenceId: string;
  }[];
};

const v = '/services/data/v62.0';

describe('jsforce composite', () => {
  it('creates an account, a contact and a task that reference it, then reads them back by query', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const before = sim.state.org.limits.usage().used;
    const answer = await conn.requestPost<CompositeAnswer>('/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: `${v}/sobjects/Account`, referenceId: 'account', body: { Name: 'Acme' } },
        {
          method: 'POST',
          url: `${v}/sobjects/Contact`,
          referenceId: 'contact',
          body: { LastName: 'Lovelace', AccountId: '@{account.id}' },
        },
        {
          method: 'POST',
          url: `${v}/sobjects/Task`,
          referenceId: 'task',
          body: { Subject: 'Welcome call', WhoId: '@{contact.id}', WhatId: '@{account.id}' },
        },
        {
          method: 'GET',
          url: `${v}/sobjects/Contact/@{contact.id}?fields=Name,AccountId`,
          referenceId: 'readBack',
        },
        {
          method: 'GET',
          url: `${v}/query?q=${encodeURIComponent("SELECT Subject, Who.Name FROM Task WHERE WhatId = '@{account.id}'")}`,
          referenceId: 'tasks',
        },
        {
          method: 'PATCH',
          url: `${v}/sobjects/Account/@{account.id}`,
          referenceId: 'rename',
          body: { Name: 'Acme Inc' },
        },
      ],
    });
    const [account, contact, task, readBack, tasks, rename] = answer.compositeResponse;
    expect(account).toMatchObject({
      httpStatusCode: 201,
      referenceId: 'account',
      body: { id: expect.stringMatching(/^001/), success: true },
      httpHeaders: { Location: `${v}/sobjects/Account/${account!.body.id}` },
    });
    expect([contact!.httpStatusCode, task!.httpStatusCode, rename!.httpStatusCode]).toEqual([201, 201, 204]);
    expect(readBack!.body).toMatchObject({ Name: 'Lovelace', AccountId: account!.body.id });
    expect(tasks!.body).toMatchObject({
      totalSize: 1,
      records: [{ Subject: 'Welcome call', Who: { Name: 'Lovelace' } }],
    });
    expect((await conn.sobject('Account').retrieve(account!.body.id as string)).Name).toBe('Acme Inc');
    // one call for the composite, however many subrequests it held
    expect(sim.state.org.limits.usage().used).toBe(before + 2);
  });

  it('allOrNone: a failed subrequest rolls back the others and halts the rest', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const answer = await conn.requestPost<CompositeAnswer>('/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: `${v}/sobjects/Account`, referenceId: 'account', body: { Name: 'Acme' } },
        { method: 'POST', url: `${v}/sobjects/Opportunity`, referenceId: 'deal', body: { Name: 'no stage' } },
        {
          method: 'POST',
          url: `${v}/composite/sobjects`,
          referenceId: 'more',
          body: { records: [{ attributes: { type: 'Case' }, Subject: 'x' }] },
        },
      ],
    });
    expect(answer.compositeResponse.map((r) => [r.httpStatusCode, r.body[0]?.errorCode])).toEqual([
      [400, 'PROCESSING_HALTED'],
      [400, 'REQUIRED_FIELD_MISSING'],
      [400, 'PROCESSING_HALTED'],
    ]);
    expect((await conn.query('SELECT Id FROM Account')).totalSize).toBe(0);
  });

  it('without allOrNone only subrequests that reference a failed one are halted; unknown resources are 404 inside', async () => {
    await using sim = await startSalesforce();
    const conn = await loggedIn(sim.url);
    const answer = await conn.requestPost<CompositeAnswer>('/composite', {
      compositeRequest: [
        {
          method: 'POST',
          url: `${v}/sobjects/Contact`,
          referenceId: 'bad',
          body: { FirstName: 'no last name' },
        },
        { method: 'GET', url: `${v}/sobjects/Contact/@{bad.id}`, referenceId: 'dependent' },
        { method: 'POST', url: `${v}/sobjects/Case`, referenceId: 'independent', body: { Subject: 'fine' } },
        { method: 'GET', url: `${v}/nowhere`, referenceId: 'missing' },
        { method: 'GET', url: '/services/data/v99.0/limits', referenceId: 'badVersion' },
      ],
    });
    expect(answer.compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 400, 201, 404, 404]);
    expect(answer.compositeResponse[1]!.body[0].errorCode).toBe('PROCESSING_HALTED');
  });
});
