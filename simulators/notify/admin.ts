// The notify simulator's own admin endpoints under /_sim/: the mailbox tests wait on, the
// delivery rules, and where webhooks go. Mistakes are the kit's 400s (PW_SIM_BAD_INPUT) naming
// the parameter and what to give instead.
import type { Router } from 'express';
import { outboundUrlProblem, type SimulatorContext, SimulatorError } from '../kit/index.ts';
import type { MessageQuery, MessageStatus } from './messages.ts';
import type { NotifyState } from './state.ts';

/** Longest a mailbox read may wait: every wait in a test run needs a bound. */
export const maxWaitMs = 60_000;

const statuses = ['queued', 'sent', 'delivered', 'bounced', 'dropped', 'undelivered', 'failed', 'any'];

export function installAdmin(router: Router, ctx: SimulatorContext<NotifyState>) {
  const { state } = ctx;

  router.get('/messages', async (req, res) => {
    const query = messageQuery(req.query as Record<string, unknown>);
    const waitMs = parseWait(req.query.wait);
    const started = performance.now();
    const messages = await state.mailbox.waitFor(query, waitMs, ctx.signal);
    res.json({ messages, count: messages.length, waitedMs: Math.round(performance.now() - started) });
  });
  router.get('/messages/:id', (req, res) => {
    const message = state.mailbox.get(req.params.id);
    if (!message)
      throw new SimulatorError(
        'PW_SIM_NOT_FOUND',
        `no message "${req.params.id}"`,
        'GET /_sim/messages?status=any lists them',
      );
    res.json(message);
  });
  router.delete('/messages', (_req, res) => {
    res.json({ removed: state.mailbox.clear() });
  });

  router.get('/delivery-rules', (_req, res) => {
    res.json({ rules: state.rules.list() });
  });
  router.post('/delivery-rules', (req, res) => {
    const body = req.body as unknown;
    if (body === undefined || (Array.isArray(body) && body.length === 0) || isEmptyObject(body)) {
      throw badInput('give a delivery rule or a list of them as a JSON body');
    }
    res.status(201).json({ rules: state.rules.add(body) });
  });
  router.delete('/delivery-rules', (_req, res) => {
    const removed = state.rules.list().length;
    state.rules.clear();
    res.json({ removed });
  });
  router.delete('/delivery-rules/:id', (req, res) => {
    if (!state.rules.remove(req.params.id)) {
      throw new SimulatorError(
        'PW_SIM_NOT_FOUND',
        `no delivery rule "${req.params.id}"`,
        'GET /_sim/delivery-rules lists them',
      );
    }
    res.json({ removed: req.params.id });
  });

  router.get('/webhooks', (_req, res) => {
    res.json({ targets: state.webhooks, attempts: state.webhookLog });
  });
  router.post('/webhooks', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const keys = Object.keys(body);
    if (keys.length === 0 || keys.some((key) => key !== 'email' && key !== 'sms')) {
      throw badInput(
        'give {"email": "<SendGrid event webhook URL>"} and/or {"sms": "<status callback URL>"}; null removes one',
      );
    }
    // every target is checked before any is set: a 400 changes nothing
    for (const key of keys as ('email' | 'sms')[]) {
      const url = body[key];
      if (url !== null && (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url))) {
        throw badInput(`${key} must be an http(s) URL or null, not ${JSON.stringify(url)}`);
      }
      const problem =
        url === null ? null : outboundUrlProblem(url, { allowExternal: state.config.allowExternalWebhooks });
      if (problem) throw badInput(`${key}: ${problem}`);
    }
    for (const key of keys as ('email' | 'sms')[]) state.webhooks[key] = body[key] as string | null;
    res.json({ targets: state.webhooks });
  });
}

function messageQuery(query: Record<string, unknown>): MessageQuery {
  const { to, channel, status } = query;
  if (to !== undefined && (typeof to !== 'string' || !to))
    throw badInput('to must be one address or pattern (`*` for any text)');
  if (channel !== undefined && channel !== 'email' && channel !== 'sms') {
    throw badInput(`channel must be email or sms, not ${JSON.stringify(channel)}`);
  }
  if (status !== undefined && !statuses.includes(status as string)) {
    throw badInput(`status must be one of ${statuses.join(', ')}, not ${JSON.stringify(status)}`);
  }
  return {
    ...(to ? { to: to as string } : {}),
    ...(channel ? { channel: channel as 'email' | 'sms' } : {}),
    ...(status ? { status: status as MessageStatus | 'any' } : {}),
  };
}

/** `5s`, `500ms`, `1m` or plain milliseconds; at most {@link maxWaitMs}. */
export function parseWait(value: unknown): number {
  if (value === undefined || value === '') return 0;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim()) : null;
  if (!match)
    throw badInput(`wait must be a duration such as 5s, 500ms or 5000, not ${JSON.stringify(value)}`);
  const ms = Number(match[1]) * (match[2] === 's' ? 1_000 : match[2] === 'm' ? 60_000 : 1);
  if (ms > maxWaitMs) throw badInput(`wait is at most ${maxWaitMs / 1000}s, not ${value}`);
  return ms;
}

const isEmptyObject = (body: unknown) =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;

function badInput(message: string): SimulatorError {
  return new SimulatorError('PW_SIM_BAD_INPUT', message);
}
