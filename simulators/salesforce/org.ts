import { type Clock, systemClock } from './clock.ts';
import { createCollections } from './collections.ts';
import { type CompositeSubresponse, type ExecuteSubrequest, runComposite } from './composite.ts';
import { resolveConfig, type SalesforceSimConfig } from './config.ts';
import { describeGlobal, describeSObject } from './describe.ts';
import { notFound } from './errors.ts';
import { createApiLimits } from './limits.ts';
import { createOAuth } from './oauth.ts';
import { createSchema, type Schema } from './schema.ts';
import { createQueryCursors, type QueryPage } from './soql/cursors.ts';
import { type QueryOptions, runQuery } from './soql/run.ts';
import { createStore } from './store.ts';

export type SalesforceOrgOptions = {
  config?: SalesforceSimConfig;
  /** Default: the system clock. The simulator passes its kit clock so `/_sim/clock` moves the org. */
  clock?: Clock;
  /** Default: node:crypto; a seeded source makes access tokens reproducible. */
  randomBytes?: (size: number) => Uint8Array;
  /** Default: Account, Contact, Task, Case, Opportunity. */
  schema?: Schema;
};

/**
 * One simulated Salesforce org: its records, SOQL, composite, daily API allowance and OAuth, with
 * no HTTP in sight. The HTTP layer maps routes onto these calls and errors onto responses.
 * @example
 * const org = createSalesforceOrg({ clock });
 * const id = org.store.create('Account', { Name: 'Acme' });
 * org.query('SELECT Name FROM Account', { apiVersion: '62.0' });
 */
export function createSalesforceOrg(options: SalesforceOrgOptions = {}) {
  const config = resolveConfig(options.config);
  const clock = options.clock ?? systemClock;
  const schema = options.schema ?? createSchema();
  const store = createStore({ schema, clock, defaultUserId: config.users[0]!.id });
  const limits = createApiLimits({ clock, dailyMax: config.dailyApiLimit });
  const cursors = createQueryCursors({ clock, batchSize: config.queryBatchSize });
  const oauth = createOAuth({ config, clock, randomBytes: options.randomBytes });

  const objectOrThrow = (type: string) => {
    const object = schema.object(type);
    if (!object) throw notFound();
    return object;
  };

  return {
    config,
    clock,
    schema,
    store,
    limits,
    oauth,
    /** sObject Collections (`/composite/sobjects`): up to 200 records a call. */
    collections: createCollections({ store, schema }),

    /** `GET /query` (or `/queryAll` with includeDeleted). */
    query: (soql: string, queryOptions: QueryOptions): QueryPage =>
      runQuery({ schema, store, clock, cursors }, soql, queryOptions),

    /** `GET /query/{locator}`: the next page of an earlier query. */
    queryMore: (locator: string, apiVersion: string, batchSize?: number): QueryPage =>
      cursors.nextPage(locator, apiVersion, batchSize),

    describe: (type: string, apiVersion: string) => describeSObject(schema, objectOrThrow(type), apiVersion),
    describeGlobal: (apiVersion: string) => describeGlobal(schema, apiVersion),

    /** `POST /composite`, each subrequest run by the HTTP layer's `execute`. */
    composite: (
      request: unknown,
      execute: ExecuteSubrequest,
    ): Promise<{ compositeResponse: CompositeSubresponse[] }> =>
      runComposite({ execute, beginTransaction: () => store.beginTransaction() }, request),

    /** Everything the org holds, for `/_sim/state`: records, API usage, sessions (never token values). */
    snapshot: () => ({
      records: store.snapshot(),
      apiUsage: limits.usage(),
      auth: oauth.snapshot(),
      openQueryCursors: cursors.openCount(),
    }),

    /** Back to the configured start: no records, a fresh allowance, no sessions or cursors. */
    reset(): void {
      store.reset();
      limits.reset();
      cursors.reset();
      oauth.reset();
    },
  };
}

export type SalesforceOrg = ReturnType<typeof createSalesforceOrg>;
