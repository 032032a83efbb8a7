// The Salesforce simulator's domain core, free of HTTP: the HTTP layer builds on these.

export {
  type Clock,
  createManualClock,
  type ManualClock,
  systemClock,
  toSalesforceDateTime,
} from './clock.ts';
// Composite, collections, limits, OAuth
export {
  type CollectionError,
  type CollectionResult,
  type Collections,
  createCollections,
  parseCollectionBody,
} from './collections.ts';
export {
  type CompositeSubresponse,
  type ExecuteSubrequest,
  parseCompositeRequest,
  runComposite,
  type Subrequest,
} from './composite.ts';
export {
  type ConnectedAppConfig,
  resolveConfig,
  SalesforceConfigError,
  type SalesforceSimConfig,
  type SalesforceUserConfig,
} from './config.ts';
export { describeGlobal, describeSObject } from './describe.ts';
export * as salesforceErrors from './errors.ts';
// Errors, in Salesforce's shapes
export { OAuthError, SalesforceError, type SalesforceErrorItem } from './errors.ts';
export { checksumSuffix, createIdGenerator, isValidId, keyPrefixes, normalizeId } from './ids.ts';
export { type ApiLimits, createApiLimits } from './limits.ts';
export { createOAuth, type OAuth, type TokenContext, type TokenResponse } from './oauth.ts';
export { standardObjects } from './objects.ts';
// The org as a whole
export { createSalesforceOrg, type SalesforceOrg, type SalesforceOrgOptions } from './org.ts';
export { type ApiResponse, saveResult, sobjectUrl, upsertResponse, withAttributes } from './present.ts';
// Schema, ids and records
export {
  createSchema,
  type FieldDef,
  type FieldType,
  isRequired,
  type Schema,
  type SObjectDef,
} from './schema.ts';
export type { Session } from './sessions.ts';
export type { SoqlQuery } from './soql/ast.ts';
export { createQueryCursors, type QueryCursors, type QueryPage } from './soql/cursors.ts';
// SOQL
export { parseSoql } from './soql/parser.ts';
export { type QueryOptions, runQuery } from './soql/run.ts';
export { createStore, type Store, type StoredRecord, type Transaction, type UpsertResult } from './store.ts';
