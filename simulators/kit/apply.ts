// The middleware that decides, journals and applies a fault for each request, after the body is
// read (its hash is part of the fingerprint) and before the simulator's routes.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, RequestHandler, Response } from 'express';
import type { SimClock } from './clock.ts';
import type { FaultController } from './faults.ts';
import type { OccurrenceCounter } from './fingerprint.ts';
import type { FaultDecision, Journal } from './journal.ts';
import { infoOf } from './requests.ts';
import { sendVendorResponse, type VendorResponses } from './vendor.ts';

export interface FaultMiddlewareOptions {
  faults: FaultController;
  journal: Journal;
  occurrences: OccurrenceCounter;
  clock: SimClock;
  /** Lower-case header name. */
  idempotencyHeader: string;
  tenantOf: ((req: Request) => string | undefined) | undefined;
  vendor: VendorResponses;
  /** Sockets of hanging requests, destroyed by stop. */
  hanging: Set<Socket>;
  /** Aborted by stop: a latency in progress gives up and closes its connection. */
  signal: AbortSignal;
}

export function applyFaults(options: FaultMiddlewareOptions): RequestHandler {
  const { faults, journal, occurrences, clock, idempotencyHeader, tenantOf } = options;
  return async (req, res, next) => {
    const info = infoOf(req);
    const queryAt = req.originalUrl.indexOf('?');
    const fingerprint = occurrences.next(
      {
        method: req.method,
        path: req.path,
        headers: req.headers,
        query: queryAt === -1 ? '' : req.originalUrl.slice(queryAt + 1),
        rawBody: info.rawBody,
      },
      idempotencyHeader,
    );
    info.fingerprint = fingerprint;
    const request = {
      method: req.method,
      path: req.path,
      headers: req.headers,
      tenant: () => tenantOf?.(req),
    };
    const decision = faults.decide(request, fingerprint);
    if (!decision) return next();
    const traceId = info.span?.spanContext().traceId;
    journal.append({
      fingerprint,
      rule: decision.rule,
      fault: decision.fault,
      meta: {
        at: clock.date().toISOString(),
        ...(info.requestId ? { requestId: info.requestId } : {}),
        ...(traceId && traceId !== '00000000000000000000000000000000' ? { traceId } : {}),
        ...(faults.mode === 'replay' ? { replayed: true as const } : {}),
      },
    });
    if (!decision.fault) return next();
    info.fault = decision.fault;
    info.rule = decision.rule ?? undefined;
    if (await apply(decision.fault, req, res, options)) next();
  };
}

/** Applies one fault; true when the request should go on to the simulator's routes. */
async function apply(
  fault: FaultDecision,
  req: Request,
  res: Response,
  options: FaultMiddlewareOptions,
): Promise<boolean> {
  const { vendor } = options;
  switch (fault.kind) {
    case 'latency':
      try {
        await sleep(fault.ms, undefined, { signal: options.signal });
        return !res.destroyed;
      } catch {
        // the simulator is stopping: the delayed answer will never come
        req.socket.destroy();
        return false;
      }
    case 'error': {
      const vendorError = vendor.error(fault.status, `${fault.status} injected by a fault rule`, req);
      const headers = { ...vendorError.headers, ...fault.headers };
      sendVendorResponse(res, { headers, body: fault.body ?? vendorError.body }, fault.status);
      return false;
    }
    case 'throttle':
      sendVendorResponse(res, vendor.throttle(req, { retryAfterS: fault.retryAfterS }), 429);
      return false;
    case 'outage':
      sendVendorResponse(
        res,
        vendor.outage(req, { status: fault.status, retryAfterS: fault.retryAfterS }),
        fault.status,
      );
      return false;
    case 'reset':
      // an RST rather than a FIN: the client sees ECONNRESET, as when a load balancer drops it
      req.socket.resetAndDestroy();
      return false;
    case 'hang': {
      const socket = req.socket;
      options.hanging.add(socket);
      // bounded so a test whose client never times out still ends
      const timer = setTimeout(() => socket.destroy(), fault.maxMs);
      res.once('close', () => {
        clearTimeout(timer);
        options.hanging.delete(socket);
      });
      return false;
    }
    default: {
      // every kind is handled above (the compiler checks); a decision of another kind cannot come
      // from a rule or a validated journal, but must never leave a request unanswered either
      const unknown: never = fault;
      sendVendorResponse(
        res,
        vendor.error(500, `unknown fault kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`, req),
        500,
      );
      return false;
    }
  }
}
