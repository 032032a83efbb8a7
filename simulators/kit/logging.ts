// JSON logs (pino) on stderr, so stdout stays free for what a command prints (the simulator's
// URL on its first line). Silent under vitest unless a level is given: test output stays readable.
import type { RequestHandler } from 'express';
import { type Level, type LevelWithSilent, type Logger, pino } from 'pino';
import { infoOf } from './requests.ts';

export type LogLevel = LevelWithSilent;

export function createLogger(simulator: string, level: LogLevel | undefined): Logger {
  return pino(
    { name: `sim-${simulator}`, level: level ?? (process.env.VITEST ? 'silent' : 'info') },
    pino.destination(2),
  );
}

/** One line per request when its response closes: id, method, path, status, duration, fault. */
export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    // the admin API is polled (mailbox waits, journal reads): its lines would bury the vendor's
    const admin = req.path.startsWith('/_sim/');
    if (!logger.isLevelEnabled(admin ? 'debug' : 'info')) return next();
    const path = req.path;
    res.once('close', () => {
      const info = infoOf(req);
      const level: Level = admin ? 'debug' : res.statusCode >= 500 || !res.headersSent ? 'warn' : 'info';
      logger[level](
        {
          requestId: info.requestId,
          method: req.method,
          path,
          status: res.headersSent ? res.statusCode : null,
          durationMs: Math.round((performance.now() - info.startedAt) * 10) / 10,
          ...(info.fault ? { fault: info.fault.kind, rule: info.rule } : {}),
        },
        'request',
      );
    });
    next();
  };
}
