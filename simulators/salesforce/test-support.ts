import { OAuthError, SalesforceError } from './errors.ts';

/** The Salesforce error a call throws, so a test can assert on its status and error array. */
export function errorOf(fn: () => unknown): SalesforceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SalesforceError) return error;
    throw error;
  }
  throw new Error('expected a SalesforceError, but the call succeeded');
}

/** The OAuth error a token-endpoint call throws. */
export function oauthErrorOf(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected an OAuthError, but the call succeeded');
}
