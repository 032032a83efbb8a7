// The express app of a simulator, in the order every request passes through it: request id,
// span, log line, admin API, body, fault, the simulator's routes, then the vendor's 404 and error
// answers. Simulators only add routes; the order is the same for all of them.
import type { Socket } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type Router } from 'express';
import type { Logger } from 'pino';
import { type AdminTarget, adminRouter } from './admin.ts';
import { applyFaults } from './apply.ts';
import type { OccurrenceCounter } from './fingerprint.ts';
import { logRequests } from './logging.ts';
import { captureRawBody, infoOf, newRequestId } from './requests.ts';
import { traceRequests } from './tracing.ts';
import { sendVendorResponse, type VendorResponses } from './vendor.ts';

export interface AppParts extends AdminTarget {
  logger: Logger;
  vendor: VendorResponses;
  occurrences: OccurrenceCounter;
  requestIdHeader: string | null;
  requestIdPrefix: string;
  idempotencyHeader: string;
  tenantOf: ((req: Request) => string | undefined) | undefined;
  bodyLimit: string | number;
  hanging: Set<Socket>;
  signal: AbortSignal;
  routes: ((router: Router) => void)[];
  adminRoutes: ((router: Router) => void)[];
}

export function buildApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  // vendor APIs put arrays and objects in query strings (Stripe's `expand[]=…`, `created[gte]=…`)
  app.set('query parser', 'extended');

  app.use((req, res, next) => {
    const info = infoOf(req);
    if (parts.requestIdHeader !== null) {
      info.requestId = newRequestId(parts.requestIdPrefix);
      res.setHeader(parts.requestIdHeader, info.requestId);
    }
    // while stopping, a kept-alive connection would outlive the server: close it after this answer
    if (parts.signal.aborted) res.setHeader('connection', 'close');
    next();
  });
  app.use(traceRequests(parts.name));
  app.use(logRequests(parts.logger));
  app.use('/_sim', adminRouter(parts, parts.adminRoutes));

  const limit = parts.bodyLimit;
  app.use(express.json({ limit, verify: captureRawBody, type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ limit, verify: captureRawBody, extended: true }));
  // anything else stays a Buffer in req.body, and is still part of the fingerprint
  app.use(express.raw({ limit, verify: captureRawBody, type: () => true }));

  app.use(
    applyFaults({
      faults: parts.faults,
      journal: parts.journal,
      occurrences: parts.occurrences,
      clock: parts.clock,
      idempotencyHeader: parts.idempotencyHeader,
      tenantOf: parts.tenantOf,
      vendor: parts.vendor,
      hanging: parts.hanging,
      signal: parts.signal,
    }),
  );
  for (const install of parts.routes) {
    const router = express.Router();
    install(router);
    app.use(router);
  }

  app.use((req, res) => {
    const message = `Unrecognized request URL (${req.method}: ${req.path})`;
    sendVendorResponse(res, parts.vendor.error(404, message, req), 404);
  });
  const errors: ErrorRequestHandler = (error, req, res, _next) => {
    // body-parser's errors carry their status: a client's mistake, answered as the vendor would
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendVendorResponse(res, parts.vendor.error(status, (error as Error).message, req), status);
      return;
    }
    parts.logger.error({ err: error, requestId: infoOf(req).requestId }, 'simulator route failed');
    const message = `internal error in the ${parts.name} simulator`;
    sendVendorResponse(res, parts.vendor.error(500, message, req), 500);
  };
  app.use(errors);
  return app;
}
