// The builder every vendor simulator starts from, and the started handle it returns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { type ClockOptions, SimClock } from './clock.ts';
import { SimulatorError } from './errors.ts';
import { FaultController } from './faults.ts';
import { OccurrenceCounter } from './fingerprint.ts';
import { Journal } from './journal.ts';
import { maxWaitMs } from './latency.ts';
import { createLogger, type LogLevel } from './logging.ts';
import { randomSeed } from './random.ts';
import { infoOf } from './requests.ts';
import type { FaultRuleInput } from './rules.ts';
import { StartedSimulator } from './started.ts';
import { inLinkedSpan, traceHeaders } from './tracing.ts';
import { defaultVendorResponses, sendVendorResponse, type VendorResponses } from './vendor.ts';

/** What a simulator keeps in memory. */
export interface SimulatorState {
  /** Everything the simulator holds, as JSON, for GET /_sim/state. */
  snapshot(): unknown;
  /** Back to the state the simulator starts with (POST /_sim/reset). */
  reset(): void | Promise<void>;
}

export interface SimulatorOptions<S extends SimulatorState> {
  /** `stripe`, `salesforce`, …: in logs, spans, the journal and /_sim/health. */
  name: string;
  state: S;
  /** Seed of every fault decision; default a random one (shown by /_sim/health and the journal). */
  seed?: number;
  /** Declare a clock to serve /_sim/clock; without one the clock runs with real time, unmovable. */
  clock?: ClockOptions;
  /** Response header carrying a fresh id per request; default `X-Request-Id`; null for none. */
  requestIdHeader?: string | null;
  /** Default `req_`. */
  requestIdPrefix?: string;
  /** Header whose value fingerprints a request instead of its body hash; default `Idempotency-Key`. */
  idempotencyHeader?: string;
  /**
   * Idempotency keys the vendor's SDK generates by itself for each call (stripe-node's
   * `stripe-node-retry-…`): they differ in every run, so such requests are fingerprinted by their
   * body, and journals of SDK traffic replay.
   */
  clientGeneratedIdempotencyKey?: RegExp;
  /** The tenant (account, org) a request belongs to, for rules that match on `tenant`. */
  tenant?: (req: Request) => string | undefined;
  /** The vendor's error, throttle and outage answers; default a generic JSON error. */
  vendor?: Partial<VendorResponses>;
  /** pino level; default `info`, or `silent` under vitest. Ignored when `logger` is given. */
  logLevel?: LogLevel;
  logger?: Logger;
  /** Journal entries kept; older ones are dropped and counted. Default 100,000. */
  journalLimit?: number;
  /** How long a hang lasts unless its rule says; default 30,000 ms, at most `maxWaitMs` (600,000). */
  hangMaxMs?: number;
  /** How long stop() waits for requests and tracked work before closing connections; default 5,000 ms. */
  stopTimeoutMs?: number;
  /** Largest request body; default `1mb`. */
  bodyLimit?: string | number;
}

/** What routes get: the simulator's parts and helpers shared by every simulator. */
export interface SimulatorContext<S extends SimulatorState> {
  readonly name: string;
  readonly seed: number;
  readonly state: S;
  readonly clock: SimClock;
  readonly logger: Logger;
  readonly vendor: VendorResponses;
  /** Aborted when the simulator stops: background work (deliveries, timers) ends with it. */
  readonly signal: AbortSignal;
  /** The base URL (`http://127.0.0.1:PORT`); available once started. */
  readonly url: string;
  /** Keeps background work in stop()'s wait, bounded by `stopTimeoutMs`. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Runs work caused by a request (a webhook delivery) in a new span linked to that request. */
  inLinkedSpan: typeof inLinkedSpan;
  /** `traceparent` of the active span, for an outgoing call. */
  traceHeaders(): Record<string, string>;
  requestId(req: Request): string | undefined;
  /** The request body as received, before parsing (for signatures, or a parser of one's own). */
  rawBody(req: Request): Buffer | undefined;
  /** Answers with the vendor's own error for `status`. */
  sendError(req: Request, res: Response, status: number, message: string): void;
}

export interface StartOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: simulators are for this machine. */
  host?: string;
}

/**
 * A simulator, before it starts.
 * @example await using sim = await new Simulator({ name: 'example', state }).withRoutes(install).start();
 */
export class Simulator<S extends SimulatorState = SimulatorState> {
  readonly #options: SimulatorOptions<S>;
  readonly #routes: ((router: Router, ctx: SimulatorContext<S>) => void)[] = [];
  readonly #adminRoutes: ((router: Router, ctx: SimulatorContext<S>) => void)[] = [];
  #defaultFaults: FaultRuleInput[] = [];

  constructor(options: SimulatorOptions<S>) {
    this.#options = options;
  }

  get name(): string {
    return this.#options.name;
  }

  /** Adds the vendor's routes; called in order, each on its own router mounted at `/`. */
  withRoutes(install: (router: Router, ctx: SimulatorContext<S>) => void): this {
    this.#routes.push(install);
    return this;
  }

  /** Adds admin endpoints of this simulator under `/_sim/` (never faulted), such as a mailbox. */
  withAdminRoutes(install: (router: Router, ctx: SimulatorContext<S>) => void): this {
    this.#adminRoutes.push(install);
    return this;
  }

  /** Fault rules in force from the start, and again after every reset. */
  withFaults(rules: FaultRuleInput[]): this {
    this.#defaultFaults = [...this.#defaultFaults, ...rules];
    return this;
  }

  async start(options: StartOptions = {}): Promise<StartedSimulator<S>> {
    const o = this.#options;
    const seed = o.seed ?? randomSeed();
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
      throw new SimulatorError(
        'PW_SIM_BAD_SEED',
        `seed must be an integer from 0 to 4294967295, not ${seed}`,
      );
    }
    const hangMaxMs = o.hangMaxMs ?? 30_000;
    if (!(hangMaxMs > 0 && hangMaxMs <= maxWaitMs)) {
      // a journal's hangs must replay, and replay holds every wait to maxWaitMs
      throw new SimulatorError(
        'PW_SIM_BAD_CONFIG',
        `hangMaxMs must be more than 0 and at most ${maxWaitMs} ms, not ${hangMaxMs}`,
      );
    }
    const clock = new SimClock(o.clock);
    const faults = new FaultController({
      seed,
      clock,
      defaults: this.#defaultFaults,
      knowsTenants: o.tenant !== undefined,
      hangMaxMs,
    });
    const journal = new Journal({ simulator: o.name, seed, limit: o.journalLimit ?? 100_000 });
    const logger = o.logger ?? createLogger(o.name, o.logLevel);
    const vendor = { ...defaultVendorResponses, ...o.vendor };
    const stopping = new AbortController();
    const tracked = new Set<Promise<unknown>>();
    const hanging = new Set<Socket>();
    let url: string | undefined;
    const reset = async () => {
      await o.state.reset();
      faults.reset();
    };
    const ctx: SimulatorContext<S> = {
      name: o.name,
      seed,
      state: o.state,
      clock,
      logger,
      vendor,
      signal: stopping.signal,
      get url() {
        if (!url)
          throw new SimulatorError('PW_SIM_NOT_STARTED', `the ${o.name} simulator has no URL before start()`);
        return url;
      },
      track(work) {
        tracked.add(work);
        const forget = () => tracked.delete(work);
        work.then(forget, forget);
        return work;
      },
      inLinkedSpan,
      traceHeaders,
      requestId: (req) => infoOf(req).requestId,
      rawBody: (req) => infoOf(req).rawBody,
      sendError: (req, res, status, message) =>
        sendVendorResponse(res, vendor.error(status, message, req), status),
    };
    const app = buildApp({
      name: o.name,
      seed,
      startedAt: Date.now(),
      state: o.state,
      faults,
      journal,
      clock,
      reset,
      logger,
      vendor,
      occurrences: new OccurrenceCounter(o.clientGeneratedIdempotencyKey),
      requestIdHeader: o.requestIdHeader === undefined ? 'X-Request-Id' : o.requestIdHeader,
      requestIdPrefix: o.requestIdPrefix ?? 'req_',
      idempotencyHeader: (o.idempotencyHeader ?? 'Idempotency-Key').toLowerCase(),
      tenantOf: o.tenant,
      bodyLimit: o.bodyLimit ?? '1mb',
      hanging,
      signal: stopping.signal,
      routes: this.#routes.map((install) => (router: Router) => install(router, ctx)),
      adminRoutes: this.#adminRoutes.map((install) => (router: Router) => install(router, ctx)),
    });
    const server = createServer(app);
    const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
    const host = options.host && !['0.0.0.0', '::'].includes(options.host) ? options.host : '127.0.0.1';
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info({ url, seed }, `${o.name} simulator listening`);
    return new StartedSimulator({
      ctx,
      faults,
      journal,
      reset,
      port,
      url,
      server,
      stopping,
      tracked,
      hanging,
      stopTimeoutMs: o.stopTimeoutMs ?? 5_000,
    });
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new SimulatorError('PW_SIM_PORT_IN_USE', `port ${port} is taken`, 'pass --port 0 for a free one')
          : error,
      );
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
