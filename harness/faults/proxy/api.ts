// The HTTP admin API, route for route as Toxiproxy 2.x's api.go, with its status codes and
// bodies: JSON on success, `{"error": …, "status": …}` as text/plain on error (Go's http.Error),
// 404 "404 page not found" for an unknown path, 405 for a known path and another method, 403 for
// a browser (Toxiproxy refuses `Mozilla/` user agents, so a web page cannot drive it). One route
// is this project's own: GET /_planewright/journal.
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from 'express';
import { badRequestBody, FaultProxyApiError } from './api-error.ts';
import type { ProxyCollection } from './collection.ts';
import { boolField, objectBody, parseJson, stringField } from './decode.ts';
import type { FaultProxyJournal } from './journal.ts';
import { toxicView } from './toxics.ts';

/** The Toxiproxy version whose API this one follows (GET /version). */
export const toxiproxyApiVersion = '2.12.0';

/** Largest request body accepted. */
const bodyLimit = '1mb';

export function createFaultProxyApp(deps: { proxies: ProxyCollection; journal: FaultProxyJournal }): Express {
  const { proxies, journal } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('strict routing', true);
  app.set('case sensitive routing', true);
  app.use(refuseBrowsers);
  const body = express.text({ type: () => true, limit: bodyLimit });
  const change = proxies.exclusive.bind(proxies);
  const bodyOf = (text: unknown) => parseJson(typeof text === 'string' ? text : undefined);

  app.post('/reset', async (_req, res) => {
    await change(() => proxies.reset());
    res.status(204).end();
  });
  app.get('/proxies', (_req, res) => {
    json(res, 200, Object.fromEntries(proxies.list().map((proxy) => [proxy.name, proxy])));
  });
  app.post('/proxies', body, async (req, res) => {
    const input = bodyOf(req.body);
    json(res, 201, await change(() => proxies.create(input)));
  });
  app.post('/populate', body, async (req, res) => {
    try {
      const input = bodyOf(req.body);
      json(res, 201, { proxies: await change(() => proxies.populate(input)) });
    } catch (error) {
      // Toxiproxy's populate answers its error and the proxies (none) in one JSON object
      const apiError = toApiError(error);
      json(res, apiError.status, { error: apiError.apiMessage, status: apiError.status, proxies: null });
    }
  });
  app.get('/proxies/:proxy', (req, res) => {
    json(res, 200, proxies.get(req.params.proxy).view());
  });
  const updateProxy: RequestHandler<{ proxy: string }> = async (req, res) => {
    const proxy = proxies.get(req.params.proxy);
    const input = objectBody(bodyOf(req.body), 'toxiproxy.Proxy');
    const fields = {
      listen: stringField(input, 'listen', 'Proxy'),
      upstream: stringField(input, 'upstream', 'Proxy'),
      enabled: boolField(input, 'enabled', 'Proxy'),
    };
    await change(() => proxy.update(fields));
    json(res, 200, proxy.view());
  };
  app.post('/proxies/:proxy', body, updateProxy);
  app.patch('/proxies/:proxy', body, updateProxy);
  app.delete('/proxies/:proxy', async (req, res) => {
    await change(() => proxies.remove(req.params.proxy));
    res.status(204).end();
  });
  app.get('/proxies/:proxy/toxics', (req, res) => {
    json(res, 200, proxies.get(req.params.proxy).toxicViews());
  });
  app.post('/proxies/:proxy/toxics', body, async (req, res) => {
    const proxy = proxies.get(req.params.proxy);
    const input = bodyOf(req.body);
    // 200, not 201: Toxiproxy answers a new toxic so
    json(res, 200, toxicView(await change(() => proxy.addToxic(input))));
  });
  app.get('/proxies/:proxy/toxics/:toxic', (req, res) => {
    json(res, 200, toxicView(proxies.get(req.params.proxy).toxic(req.params.toxic)));
  });
  const updateToxic: RequestHandler<{ proxy: string; toxic: string }> = async (req, res) => {
    const proxy = proxies.get(req.params.proxy);
    const input = bodyOf(req.body);
    json(res, 200, toxicView(await change(() => proxy.updateToxic(req.params.toxic, input))));
  };
  app.post('/proxies/:proxy/toxics/:toxic', body, updateToxic);
  app.patch('/proxies/:proxy/toxics/:toxic', body, updateToxic);
  app.delete('/proxies/:proxy/toxics/:toxic', async (req, res) => {
    const proxy = proxies.get(req.params.proxy);
    await change(() => proxy.removeToxic(req.params.toxic));
    res.status(204).end();
  });
  app.get('/version', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' });
    res.end(`{"version": "${toxiproxyApiVersion}"}\n`);
  });
  app.get('/_planewright/journal', (req, res) => {
    const since = req.query.since === undefined ? 0 : Number(req.query.since);
    if (!Number.isSafeInteger(since) || since < 0) {
      throw new FaultProxyApiError(400, 'since must be a journal sequence number (0 or more)');
    }
    json(res, 200, journal.toJSON(since));
  });

  for (const path of [
    '/reset',
    '/proxies',
    '/populate',
    '/proxies/:proxy',
    '/proxies/:proxy/toxics',
    '/proxies/:proxy/toxics/:toxic',
    '/version',
    '/_planewright/journal',
  ]) {
    app.all(path, (_req, res) => {
      res.status(405).end();
    });
  }
  app.use((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  });
  app.use(answerError);
  return app;
}

function json(res: Response, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

const refuseBrowsers: RequestHandler = (req, res, next) => {
  if (!req.get('user-agent')?.startsWith('Mozilla/')) return next();
  res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('User agent not allowed\n');
};

function toApiError(error: unknown): FaultProxyApiError {
  if (error instanceof FaultProxyApiError) return error;
  // body-parser's own: too large (413), aborted, bad encoding
  const { status, type, message } = (error ?? {}) as { status?: number; type?: string; message?: string };
  if (type === 'entity.too.large')
    return new FaultProxyApiError(413, 'bad request body: http: request body too large');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return badRequestBody(message ?? 'unreadable');
  return new FaultProxyApiError(500, message ?? String(error));
}

const answerError: ErrorRequestHandler = (error, _req, res, _next) => {
  const apiError = toApiError(error);
  if (apiError.status >= 500) console.error('fault proxy: unexpected error', error);
  res.writeHead(apiError.status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(apiError.body());
};
