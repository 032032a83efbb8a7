// The OAuth endpoints: token (every grant), revoke, and the identity URL a token answer names.
// They answer with OAuth's `{error, error_description}` rather than the data API's error array.
import type { Request, Router } from 'express';
import type { SimulatorContext } from '../../kit/index.ts';
import { OAuthError, SalesforceError } from '../errors.ts';
import { instanceUrlOf, sendResponse } from '../http.ts';
import type { Session } from '../sessions.ts';
import type { SalesforceState } from '../state.ts';

const noStore = { 'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private' };

/** Form fields (or query parameters, which Salesforce also takes), with HTTP Basic client auth. */
export function tokenParams(req: Request): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  for (const source of [req.query, req.body]) {
    if (typeof source !== 'object' || source === null || Buffer.isBuffer(source)) continue;
    for (const [key, value] of Object.entries(source)) if (typeof value === 'string') params[key] = value;
  }
  const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (basic) {
    // RFC 6749 §2.3.1: id and secret are form-encoded, then joined by a colon
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const [id, secret] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    params.client_id ??= decodeURIComponent(id.replace(/\+/g, ' '));
    params.client_secret ??= decodeURIComponent(secret.replace(/\+/g, ' '));
  }
  return params;
}

export function installOAuthRoutes(router: Router, ctx: SimulatorContext<SalesforceState>): void {
  const { org } = ctx.state;
  const oauthError = (error: unknown) => {
    if (!(error instanceof OAuthError)) throw error;
    return { status: error.status, body: error.toBody(), headers: noStore };
  };

  router.post('/services/oauth2/token', (req, res) => {
    const instanceUrl = instanceUrlOf(req, ctx.url);
    try {
      const token = org.oauth.token(tokenParams(req), { instanceUrl });
      sendResponse(res, org, { status: 200, body: token, headers: noStore });
    } catch (error) {
      sendResponse(res, org, oauthError(error));
    }
  });
  router.get('/services/oauth2/token', (_req, res) => {
    sendResponse(res, org, oauthError(new OAuthError(400, 'invalid_request', 'must use HTTP POST')));
  });

  // POST with a form body, or the "blind GET" with ?token=, as Salesforce takes both
  router.all('/services/oauth2/revoke', (req, res) => {
    try {
      org.oauth.revoke(tokenParams(req).token);
      sendResponse(res, org, { status: 200, body: undefined });
    } catch (error) {
      sendResponse(res, org, oauthError(error));
    }
  });

  router.get('/id/:orgId/:userId', (req, res) => {
    const token = typeof req.query.oauth_token === 'string' ? req.query.oauth_token : undefined;
    let session: Session;
    try {
      session = org.oauth.authenticate(token ? `Bearer ${token}` : req.get('authorization'));
    } catch (error) {
      if (!(error instanceof SalesforceError)) throw error;
      // the identity service answers in plain text, not in the data API's error array
      return sendResponse(res, org, { status: 403, body: 'Bad_OAuth_Token' });
    }
    const user = org.config.users.find((u) => u.id === session.userId)!;
    if (req.params.orgId !== org.config.orgId || req.params.userId !== user.id) {
      return sendResponse(res, org, { status: 403, body: 'Bad_Id' });
    }
    const base = instanceUrlOf(req, ctx.url);
    const rest = `${base}/services/data/v{version}`;
    sendResponse(res, org, {
      status: 200,
      body: {
        id: `${base}/id/${org.config.orgId}/${user.id}`,
        asserted_user: true,
        user_id: user.id,
        organization_id: org.config.orgId,
        username: user.username,
        nick_name: user.username.split('@')[0],
        display_name: user.username,
        email: user.email,
        email_verified: true,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
        is_app_installed: true,
        urls: {
          rest: `${rest}/`,
          sobjects: `${rest}/sobjects/`,
          query: `${rest}/query/`,
          limits: `${rest}/limits`,
        },
      },
    });
  });
}
