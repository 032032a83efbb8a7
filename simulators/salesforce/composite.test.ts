import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { type ExecuteSubrequest, runComposite } from './composite.ts';
import { createSalesforceOrg } from './org.ts';
import { saveResult, sobjectUrl } from './present.ts';
import { errorOf } from './test-support.ts';

const apiVersion = '62.0';

/** A stand-in for the HTTP layer's router: enough sObject and query routes to run subrequests. */
function setup() {
  const org = createSalesforceOrg({ clock: createManualClock() });
  const executed: string[] = [];
  const execute: ExecuteSubrequest = ({ method, url, body }) => {
    executed.push(`${method} ${url}`);
    const path = new URL(url, 'http://sim').pathname.replace(/^\/services\/data\/v[\d.]+/, '');
    const [, resource, type, id] = path.split('/');
    if (resource === 'query') {
      return {
        status: 200,
        body: org.query(new URL(url, 'http://sim').searchParams.get('q')!, { apiVersion }),
      };
    }
    if (method === 'POST') {
      const created = org.store.create(type!, body);
      return {
        status: 201,
        body: saveResult(created),
        headers: { Location: sobjectUrl(apiVersion, type!, created) },
      };
    }
    if (method === 'PATCH') {
      org.store.update(type!, id!, body);
      return { status: 204, body: undefined };
    }
    return { status: 200, body: org.store.retrieve(type!, id!) };
  };
  const composite = (request: unknown) => org.composite(request, execute);
  return { org, composite, executed };
}

const createAccount = (referenceId: string, body: unknown) => ({
  method: 'POST',
  url: `/services/data/v${apiVersion}/sobjects/Account`,
  referenceId,
  body,
});

describe('composite', () => {
  it('runs subrequests in order and resolves @{ref.field} in bodies and urls, keeping JSON types', async () => {
    const { composite, org } = setup();
    const { compositeResponse } = await composite({
      compositeRequest: [
        createAccount('refAccount', { Name: 'Acme', NumberOfEmployees: 12 }),
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'refContact',
          body: { LastName: 'Lovelace', AccountId: '@{refAccount.id}', Title: 'Contact of @{refAccount.id}' },
        },
        {
          method: 'GET',
          url: '/services/data/v62.0/sobjects/Account/@{refAccount.id}',
          referenceId: 'readBack',
        },
        {
          method: 'PATCH',
          url: '/services/data/v62.0/sobjects/Contact/@{refContact.id}',
          referenceId: 'copyCount',
          body: { Phone: '@{readBack.NumberOfEmployees}' },
        },
        {
          method: 'GET',
          url: "/services/data/v62.0/query?q=SELECT+Id,Phone+FROM+Contact+WHERE+AccountId='@{refAccount.id}'",
          referenceId: 'contacts',
        },
        {
          method: 'PATCH',
          url: '/services/data/v62.0/sobjects/Account/@{contacts.records[0].attributes.url}',
          referenceId: 'badPath',
          body: {},
        },
      ],
    });
    const [account, contact, readBack, copy, contacts] = compositeResponse;
    const accountId = (account!.body as { id: string }).id;
    expect(account).toEqual({
      body: { id: accountId, success: true, errors: [] },
      httpHeaders: { Location: `/services/data/v62.0/sobjects/Account/${accountId}` },
      httpStatusCode: 201,
      referenceId: 'refAccount',
    });
    const contactId = (contact!.body as { id: string }).id;
    expect(org.store.retrieve('Contact', contactId, ['AccountId', 'Title', 'Phone'])).toEqual({
      AccountId: accountId,
      Title: `Contact of ${accountId}`,
      Phone: '12',
    });
    expect(readBack).toMatchObject({ httpStatusCode: 200, body: { Name: 'Acme' } });
    expect(copy).toEqual({ body: null, httpHeaders: {}, httpStatusCode: 204, referenceId: 'copyCount' });
    expect(contacts!.body).toMatchObject({ totalSize: 1, records: [{ Id: contactId, Phone: '12' }] });
    // a reference inside a url is plain text: here it makes a path that does not exist
    expect(compositeResponse[5]).toMatchObject({ httpStatusCode: 404, body: [{ errorCode: 'NOT_FOUND' }] });
  });

  it('reads references a client percent-encoded with the rest of its query', async () => {
    const { composite } = setup();
    const soql = "SELECT Id FROM Contact WHERE AccountId = '@{refAccount.id}'";
    const { compositeResponse } = await composite({
      compositeRequest: [
        createAccount('refAccount', { Name: 'Acme' }),
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'refContact',
          body: { LastName: 'Lovelace', AccountId: '@{refAccount.id}' },
        },
        {
          method: 'GET',
          url: `/services/data/v62.0/query?q=${encodeURIComponent(soql)}`,
          referenceId: 'contacts',
        },
      ],
    });
    expect(compositeResponse[2]).toMatchObject({ httpStatusCode: 200, body: { totalSize: 1 } });
  });

  it('allOrNone: the first failure rolls everything back and every other subrequest is PROCESSING_HALTED', async () => {
    const { composite, org, executed } = setup();
    const { compositeResponse } = await composite({
      allOrNone: true,
      compositeRequest: [
        createAccount('first', { Name: 'Rolled back' }),
        createAccount('broken', { Industry: 'Retail' }),
        createAccount('never', { Name: 'Never run' }),
      ],
    });
    const halted = {
      body: [
        {
          errorCode: 'PROCESSING_HALTED',
          message: 'The transaction was rolled back since another operation in the same transaction failed.',
        },
      ],
      httpHeaders: {},
      httpStatusCode: 400,
    };
    expect(compositeResponse).toEqual([
      { ...halted, referenceId: 'first' },
      {
        body: [
          {
            errorCode: 'REQUIRED_FIELD_MISSING',
            message: 'Required fields are missing: [Name]',
            fields: ['Name'],
          },
        ],
        httpHeaders: {},
        httpStatusCode: 400,
        referenceId: 'broken',
      },
      { ...halted, referenceId: 'never' },
    ]);
    expect(executed).toHaveLength(2);
    expect(org.store.snapshot().Account).toEqual([]);
  });

  it('without allOrNone: earlier writes stay, only subrequests that reference a failed one are halted', async () => {
    const { composite, org } = setup();
    const { compositeResponse } = await composite({
      compositeRequest: [
        createAccount('broken', { Name: 'x'.repeat(300) }),
        createAccount('fine', { Name: 'Fine' }),
        {
          method: 'POST',
          url: '/services/data/v62.0/sobjects/Contact',
          referenceId: 'dependent',
          body: { LastName: 'Orphan', AccountId: '@{broken.id}' },
        },
      ],
    });
    expect(compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 201, 400]);
    expect(compositeResponse[0]!.body).toMatchObject([{ errorCode: 'STRING_TOO_LONG' }]);
    expect(compositeResponse[2]!.body).toEqual([
      {
        errorCode: 'PROCESSING_HALTED',
        message:
          "Invalid reference specified. No value for broken.id found in broken. Provided referenceId ('broken') is invalid.",
      },
    ]);
    expect(org.store.snapshot().Account!.map((a) => a.Name)).toEqual(['Fine']);
    expect(org.store.snapshot().Contact).toEqual([]);
  });

  it('halts a subrequest whose reference names a later or unknown subrequest', async () => {
    const { composite } = setup();
    const { compositeResponse } = await composite({
      compositeRequest: [
        createAccount('early', { Name: '@{late.id}' }),
        createAccount('late', { Name: 'Late' }),
      ],
    });
    expect(compositeResponse.map((r) => r.httpStatusCode)).toEqual([400, 201]);
  });

  it.each([
    [{}, 'compositeRequest: a list of subrequests is required'],
    [{ compositeRequest: [] }, 'between 1 and 25 subrequests'],
    [
      { compositeRequest: Array.from({ length: 26 }, (_, i) => createAccount(`r${i}`, {})) },
      'between 1 and 25',
    ],
    [{ compositeRequest: [{ ...createAccount('a', {}), method: 'HEAD' }] }, 'compositeRequest[0].method'],
    [
      { compositeRequest: [{ ...createAccount('a', {}), url: 'http://elsewhere/x' }] },
      'compositeRequest[0].url',
    ],
    [{ compositeRequest: [{ ...createAccount('a b', {}) }] }, 'compositeRequest[0].referenceId'],
    [{ compositeRequest: [createAccount('a', {}), createAccount('a', {})] }, 'Duplicate referenceId'],
    [
      { compositeRequest: [{ ...createAccount('a', {}), httpHeaders: { Authorization: 'x' } }] },
      'Authorization',
    ],
  ])('refuses a malformed request as a whole: %j', async (request, message) => {
    const { composite, executed } = setup();
    const error = await composite(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(
      errorOf(() => {
        throw error;
      }).errors[0],
    ).toMatchObject({ errorCode: 'JSON_PARSER_ERROR', message: expect.stringContaining(message) });
    expect(executed).toEqual([]);
  });

  it('lets an executor failure that is no Salesforce error propagate', async () => {
    await expect(
      runComposite(
        {
          execute: () => {
            throw new Error('router crashed');
          },
          beginTransaction: () => ({ commit() {}, rollback() {} }),
        },
        { compositeRequest: [createAccount('a', {})] },
      ),
    ).rejects.toThrow('router crashed');
  });
});
