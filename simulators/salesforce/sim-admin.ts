// The Salesforce simulator's own admin endpoints under /_sim/: steer what tests cannot reach
// through the API (the day's usage, every session at once, a refresh token without a browser).
import type { Router } from 'express';
import { type SimulatorContext, SimulatorError } from '../kit/index.ts';
import { OAuthError } from './errors.ts';
import type { SalesforceState } from './state.ts';

const badInput = (message: string) => new SimulatorError('PW_SIM_BAD_INPUT', message);

const wholeNumber = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badInput(`${name} must be a whole number ≥ 0, not ${JSON.stringify(value)}`);
  }
  return value;
};

export function installSalesforceAdmin(router: Router, ctx: SimulatorContext<SalesforceState>): void {
  const { org } = ctx.state;

  router.get('/api-usage', (_req, res) => {
    res.json(org.limits.usage());
  });
  // {"used": 14999} starts a test one call short of REQUEST_LIMIT_EXCEEDED; {"max": N} changes the allowance
  router.post('/api-usage', (req, res) => {
    const body = (req.body ?? {}) as { used?: unknown; max?: unknown };
    const max = wholeNumber(body.max, 'max');
    const used = wholeNumber(body.used, 'used');
    if (max !== undefined) org.limits.setMax(max);
    if (used !== undefined) org.limits.setUsed(used);
    res.json(org.limits.usage());
  });

  router.post('/sessions/expire', (_req, res) => {
    org.oauth.expireAllSessions();
    res.json({ ok: true });
  });

  // as if the user had approved the app in a browser: the refresh_token grant can then be tested
  router.post('/refresh-tokens', (req, res) => {
    const body = (req.body ?? {}) as { username?: unknown; clientId?: unknown };
    const username = typeof body.username === 'string' ? body.username : org.config.users[0]!.username;
    const clientId =
      typeof body.clientId === 'string' ? body.clientId : org.config.connectedApps[0]?.clientId;
    try {
      res.status(201).json({ refresh_token: org.oauth.issueRefreshToken(username, clientId ?? '') });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      throw badInput(`no user ${username} or connected app ${clientId}: name configured ones`);
    }
  });
}
