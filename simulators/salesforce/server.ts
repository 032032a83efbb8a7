// The Salesforce simulator's HTTP surface: the OAuth endpoints, `GET /services/data`, and the data
// API under `/services/data/vXX.X/`, where every call is authenticated, counted against the daily
// allowance and answered with `Sforce-Limit-Info`, errors in Salesforce's array.
import type { Request, Response, Router } from 'express';
import type { SimulatorContext } from '../kit/index.ts';
import { createDataApi, type DataApi, splitDataUrl } from './api.ts';
import { notFound, SalesforceError } from './errors.ts';
import { instanceUrlOf, jsonBodyOf, sendResponse } from './http.ts';
import { compositeRoutes } from './routes/composite.ts';
import { installOAuthRoutes } from './routes/oauth.ts';
import { queryRoutes } from './routes/query.ts';
import { resourceRoutes } from './routes/resources.ts';
import { sobjectRoutes } from './routes/sobjects.ts';
import type { SalesforceState } from './state.ts';
import { apiVersionOf, versionsList } from './versions.ts';

/** Every data resource, literal paths before parameterised ones that could shadow them. */
const dataRoutes = [...resourceRoutes, ...queryRoutes, ...compositeRoutes, ...sobjectRoutes];

export function installSalesforceRoutes(router: Router, ctx: SimulatorContext<SalesforceState>): void {
  const { org } = ctx.state;
  ctx.state.useClock(ctx.clock);
  ctx.state.useSeed(ctx.seed);
  const api = createDataApi(org, dataRoutes);

  installOAuthRoutes(router, ctx);
  // the versions list is public and free, as in Salesforce: clients call it before logging in
  router.get(['/services/data', '/services/data/'], (_req, res) => {
    sendResponse(res, org, { status: 200, body: versionsList() });
  });
  router.use('/services/data', async (req, res, next) => {
    try {
      await serveDataCall(req, res, ctx, api);
    } catch (error) {
      if (!(error instanceof SalesforceError)) return next(error);
      sendResponse(res, org, { status: error.status, body: error.toBody() });
    }
  });
}

/** One data API call: version, session, allowance, then the resource. */
async function serveDataCall(
  req: Request,
  res: Response,
  ctx: SimulatorContext<SalesforceState>,
  api: DataApi,
) {
  const { org } = ctx.state;
  const parts = splitDataUrl(req.originalUrl);
  const apiVersion = parts && apiVersionOf(parts.versionSegment);
  if (!parts || !apiVersion) throw notFound();
  // a bad session is refused before it is counted; a counted call may then still fail
  const session = org.oauth.authenticate(req.get('authorization'));
  org.limits.consume();
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const response = await api.dispatch({
    method: req.method,
    path: parts.path,
    query: parts.query,
    body: jsonBodyOf(req, ctx.rawBody(req)),
    headers,
    apiVersion,
    session,
    instanceUrl: instanceUrlOf(req, ctx.url),
  });
  sendResponse(res, org, response);
}
