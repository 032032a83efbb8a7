// The admin API under /_sim/: what tests and the harness use to inspect and steer a simulator.
// Never faulted and never journaled. Answers are JSON; mistakes are 400s that say what to fix.
import express, { type ErrorRequestHandler, type Router } from 'express';
import { checkDurationMs, type SimClock } from './clock.ts';
import { SimulatorError } from './errors.ts';
import type { FaultController } from './faults.ts';
import type { Journal } from './journal.ts';
import type { FaultRuleInput } from './rules.ts';

export interface AdminTarget {
  name: string;
  seed: number;
  startedAt: number;
  state: { snapshot(): unknown };
  faults: FaultController;
  journal: Journal;
  clock: SimClock;
  reset(): Promise<void>;
}

const endpoints = [
  'GET health',
  'POST reset',
  'GET state',
  'GET|POST|DELETE faults',
  'DELETE faults/{id}',
  'GET journal?since=N',
  'GET|POST clock',
  'GET|POST|DELETE replay',
];

/** The built-in endpoints; `extra` adds a simulator's own (notify's mailbox) before the 404. */
export function adminRouter(target: AdminTarget, extra: ((router: Router) => void)[]): Router {
  const router = express.Router();
  // any content type: `curl -d '{…}'` sends form encoding by default, and the body is JSON anyway
  router.use(express.json({ type: () => true, limit: '64mb', strict: false }));
  const { faults, journal, clock } = target;

  router.get('/health', (_req, res) => {
    res.json({
      ok: true,
      simulator: target.name,
      seed: target.seed,
      mode: faults.mode,
      uptimeMs: Math.round(Date.now() - target.startedAt),
      clock: clock.date().toISOString(),
    });
  });
  router.post('/reset', async (_req, res) => {
    await target.reset();
    res.json({ ok: true, rules: faults.list() });
  });
  router.get('/state', async (_req, res) => {
    res.json(await target.state.snapshot());
  });

  router.get('/faults', (_req, res) => {
    res.json({ rules: faults.list() });
  });
  router.post('/faults', (req, res) => {
    // an empty body parses as {}: say what is missing rather than which field
    if (isEmpty(req.body)) throw badInput('give a rule or a list of rules as a JSON body');
    // validated by add(), whatever its shape
    res.status(201).json({ rules: faults.add(req.body as FaultRuleInput) });
  });
  router.delete('/faults', (_req, res) => {
    const removed = faults.list().length;
    faults.clear();
    res.json({ removed });
  });
  router.delete('/faults/:id', (req, res) => {
    if (!faults.remove(req.params.id)) {
      throw new SimulatorError(
        'PW_SIM_NOT_FOUND',
        `no rule "${req.params.id}"`,
        'GET /_sim/faults lists them',
      );
    }
    res.json({ removed: req.params.id });
  });

  router.get('/journal', (req, res) => {
    const since = req.query.since ?? '0';
    if (typeof since !== 'string' || !/^\d+$/.test(since)) {
      throw badInput(`since must be a sequence number (0 or more), not ${JSON.stringify(since)}`);
    }
    res.json(journal.toJSON(Number(since)));
  });

  router.use('/clock', (_req, _res, next) => {
    if (clock.declared) return next();
    throw new SimulatorError(
      'PW_SIM_NO_CLOCK',
      `the ${target.name} simulator has no clock to read or move`,
      'only simulators that keep time (test clocks, expiries, delivery delays) serve /_sim/clock',
    );
  });
  router.get('/clock', (_req, res) => {
    res.json({ now: clock.date().toISOString(), nowMs: clock.now(), frozen: clock.frozen });
  });
  router.post('/clock', async (req, res) => {
    const body = req.body as { advanceMs?: unknown; setTo?: unknown } | undefined;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    if (keys.length !== 1 || !(keys[0] === 'advanceMs' || keys[0] === 'setTo')) {
      throw badInput('give exactly one of {"advanceMs": 60000} or {"setTo": "2030-01-01T00:00:00Z"}');
    }
    let advance: Awaited<ReturnType<SimClock['advance']>>;
    if (keys[0] === 'advanceMs') {
      if (typeof body!.advanceMs !== 'number' || !Number.isFinite(body!.advanceMs) || body!.advanceMs < 0) {
        throw badInput(
          `advanceMs must be a number of milliseconds, 0 or more, not ${JSON.stringify(body!.advanceMs)}`,
        );
      }
      // at most 100 years, and never past what a date can show: PW_SIM_BAD_TIME
      advance = await clock.advance(checkDurationMs(body!.advanceMs, 'advanceMs'));
    } else {
      if (typeof body!.setTo !== 'string' && typeof body!.setTo !== 'number') {
        throw badInput('setTo must be an ISO 8601 time or epoch milliseconds');
      }
      advance = await clock.setTo(body!.setTo);
    }
    res.json({
      from: advance.from.toISOString(),
      to: advance.to.toISOString(),
      now: clock.date().toISOString(),
    });
  });

  router.post('/replay', (req, res) => {
    faults.replay(req.body);
    res.json({ mode: faults.mode, ...faults.replayReport() });
  });
  router.get('/replay', (_req, res) => {
    res.json({ mode: faults.mode, ...(faults.replayReport() ?? {}) });
  });
  router.delete('/replay', (_req, res) => {
    res.json({ mode: 'rules', ...(faults.stopReplay() ?? {}) });
  });

  for (const install of extra) install(router);
  router.use((req, _res) => {
    throw new SimulatorError(
      'PW_SIM_NOT_FOUND',
      `no admin endpoint ${req.method} /_sim${req.path}`,
      `the admin API serves: ${endpoints.join(', ')}`,
    );
  });
  router.use(adminErrors);
  return router;
}

function isEmpty(body: unknown): boolean {
  if (body === undefined) return true;
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
}

function badInput(message: string): SimulatorError {
  return new SimulatorError('PW_SIM_BAD_INPUT', message);
}

const statusOfCode: Record<string, number> = { PW_SIM_NOT_FOUND: 404, PW_SIM_NO_CLOCK: 404 };

const adminErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  if (error instanceof SimulatorError) {
    const status =
      statusOfCode[error.code] ?? (/^PW_SIM_(BAD_|CLOCK_BACKWARDS)/.test(error.code) ? 400 : 500);
    res.status(status).json({ error: { code: error.code, message: error.message } });
    return;
  }
  // body-parser's errors carry the status to answer with (400 unreadable JSON, 413 too large)
  const status = (error as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = `the request body could not be read: ${(error as Error).message}`;
    res.status(status).json({ error: { code: 'PW_SIM_BAD_INPUT', message: `PW_SIM_BAD_INPUT: ${message}` } });
    return;
  }
  // a simulator's state or clock hook failed: its message helps whoever wrote that simulator
  res
    .status(500)
    .json({ error: { code: 'PW_SIM_INTERNAL', message: `PW_SIM_INTERNAL: ${(error as Error).message}` } });
};
