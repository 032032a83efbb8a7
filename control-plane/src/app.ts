import { randomUUID } from 'node:crypto';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Api } from './api/route.ts';
import { registerRoutes } from './api/routes/index.ts';
import { authenticate } from './auth/authenticate.ts';
import type { AppDeps } from './deps.ts';
import { ApiError, apiErrorFromPg } from './errors.ts';
import { stripeWebhookRouter } from './webhooks/stripe.ts';

/** Builds the control plane's express app; `server.ts` only starts it. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const given = req.header('x-request-id');
    req.requestId = given && /^[\w.:-]{1,128}$/.test(given) ? given : `req_${randomUUID()}`;
    res.setHeader('X-Request-Id', req.requestId);
    const started = performance.now();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      deps.metrics.httpRequestDuration.observe(
        { method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: 'shutting_down' });
      return;
    }
    try {
      await deps.db.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'database_unreachable' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  // before the JSON parser: a webhook's signature is over its raw body
  app.use(stripeWebhookRouter(deps));
  app.use(express.json({ limit: '256kb', strict: true }));
  app.use(authenticate(deps));

  const router = express.Router();
  const api = new Api(router, deps);
  registerRoutes(api);
  const document = new OpenApiGeneratorV31(api.registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Planewright reference control plane',
      version: '1.0.0',
      description: 'Tenancy, members, API keys, data-plane resources, secrets, billing, audit and flows.',
    },
    servers: [{ url: '/' }],
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(router);

  app.use((req: Request) => {
    throw new ApiError(404, 'not_found', `no route ${req.method} ${req.path}`);
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) deps.logger.error({ err: error, requestId: req.requestId }, 'request failed');
    res.status(apiError.status).json({
      error: {
        code: apiError.code,
        message: apiError.message,
        ...(apiError.details === undefined ? {} : { details: apiError.details }),
        requestId: req.requestId,
      },
    });
  });
  return app;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as { status?: unknown; type?: unknown } | undefined)?.status;
  const type = (error as { type?: unknown } | undefined)?.type;
  // errors of express.json(): the client's body, never our failure
  if (type === 'entity.parse.failed')
    return new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
  if (type === 'entity.too.large')
    return new ApiError(413, 'payload_too_large', 'the request body is larger than 256 kB');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, 'bad_request', (error as Error).message);
  }
  return (
    apiErrorFromPg(error) ?? new ApiError(500, 'internal', 'internal error; quote the request id to support')
  );
}
