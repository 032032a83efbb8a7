// Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded,
// with HTTP basic auth (account SID and auth token), answered 201 with the Message resource in
// status `queued`; and the reads the SDK makes: fetch one message, list messages.
import type { NextFunction, Request, Response, Router } from 'express';
import type { SimulatorContext } from '../../kit/index.ts';
import type { Deliveries } from '../delivery.ts';
import { extractLinks } from '../links.ts';
import type { NotifyState } from '../state.ts';
import { twilioError } from '../vendor.ts';
import { type CreateParams, createProblem, messageJson, segmentsOf } from './twilio-message.ts';

const base = '/2010-04-01/Accounts/:accountSid';

export function installTwilio(router: Router, ctx: SimulatorContext<NotifyState>, deliveries: Deliveries) {
  router.use(base, authenticate(ctx));

  router.post(`${base}/Messages.json`, (req, res) => {
    const params = (req.body ?? {}) as CreateParams;
    const problem = createProblem(params, ctx.state.config);
    if (problem) return void res.status(400).json(twilioError(400, problem.code, problem.message));
    const accountSid = req.params.accountSid as string;
    const body = params.Body ?? '';
    const mediaUrls = [params.MediaUrl ?? []].flat();
    const message = deliveries.accept(
      {
        id: `SM${ctx.state.ids.hex('twilio-message', 16)}`,
        channel: 'sms',
        via: 'twilio',
        from: params.From ?? params.MessagingServiceSid!,
        to: params.To!,
        recipients: [params.To!],
        subject: null,
        text: body,
        html: null,
        links: extractLinks({ text: body }),
        vendor: {
          accountSid,
          messagingServiceSid: params.MessagingServiceSid ?? null,
          statusCallback: params.StatusCallback ?? null,
          numSegments: segmentsOf(body),
          mediaUrls,
        },
      },
      req,
    );
    res.status(201).json(messageJson(message));
  });

  router.get(`${base}/Messages/:sid.json`, (req, res) => {
    const message = ctx.state.mailbox.get(req.params.sid as string);
    const owner = message?.channel === 'sms' ? (message.vendor as { accountSid: string }).accountSid : null;
    if (!message || owner !== req.params.accountSid) {
      const notFound = `The requested resource ${req.path} was not found`;
      return void res.status(404).json(twilioError(404, 20404, notFound));
    }
    res.json(messageJson(message));
  });

  router.get(`${base}/Messages.json`, (req, res) => {
    const { To, From } = req.query as { To?: string; From?: string };
    const dateSent = dateSentFilter(req.query as Record<string, unknown>);
    if (typeof dateSent === 'string') {
      return void res.status(400).json(twilioError(400, 20001, dateSent));
    }
    const pageSize = Math.min(Math.max(Number(req.query.PageSize ?? 50) || 50, 1), 1000);
    const page = Math.max(Number(req.query.Page ?? 0) || 0, 0);
    const all = ctx.state.mailbox
      .find({ channel: 'sms', status: 'any', ...(To ? { to: To } : {}) })
      .filter((m) => (m.vendor as { accountSid: string }).accountSid === req.params.accountSid)
      .filter((m) => !From || m.from === From)
      .filter((m) => sentBetween(m, dateSent))
      .reverse(); // Twilio lists newest first
    const slice = all.slice(page * pageSize, (page + 1) * pageSize);
    const uri = (p: number) => `${req.path}?PageSize=${pageSize}&Page=${p}`;
    res.json({
      messages: slice.map(messageJson),
      page,
      page_size: pageSize,
      start: page * pageSize,
      end: page * pageSize + Math.max(slice.length - 1, 0),
      uri: uri(page),
      first_page_uri: uri(0),
      previous_page_uri: page > 0 ? uri(page - 1) : null,
      next_page_uri: (page + 1) * pageSize < all.length ? uri(page + 1) : null,
    });
  });
}

interface DateSentFilter {
  on?: string;
  after?: number;
  before?: number;
}

/**
 * Twilio's `DateSent`, `DateSent>` and `DateSent<` (the SDK's dateSent, dateSentAfter and
 * dateSentBefore): a day `YYYY-MM-DD` or an ISO 8601 instant, as the SDK writes Dates. `>` and
 * `<` include their bound, as Twilio's do (`>=`/`<=` in its docs). A message not sent yet is
 * dated by its creation. An unreadable date is an error message.
 */
function dateSentFilter(query: Record<string, unknown>): DateSentFilter | string {
  const filter: DateSentFilter = {};
  for (const [name, key] of [
    ['DateSent', 'on'],
    ['DateSent>', 'after'],
    ['DateSent<', 'before'],
  ] as const) {
    const raw = query[name];
    if (raw === undefined) continue;
    const text = String(raw);
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
    if (!Number.isFinite(ms)) return `Invalid ${name}: ${text}`;
    if (key === 'on') filter.on = new Date(ms).toISOString().slice(0, 10);
    // a bare day as an upper bound includes that whole day
    else if (key === 'before' && /^\d{4}-\d{2}-\d{2}$/.test(text)) filter.before = ms + 86_400_000 - 1;
    else filter[key] = ms;
  }
  return filter;
}

function sentBetween(message: { sentAt: string | null; createdAt: string }, filter: DateSentFilter): boolean {
  const at = message.sentAt ?? message.createdAt;
  const ms = Date.parse(at);
  if (filter.on && new Date(ms).toISOString().slice(0, 10) !== filter.on) return false;
  if (filter.after !== undefined && ms < filter.after) return false;
  if (filter.before !== undefined && ms > filter.before) return false;
  return true;
}

/** Basic auth with an account's SID and auth token; the path's account must be that account. */
function authenticate(ctx: SimulatorContext<NotifyState>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const [, encoded] = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '') ?? [];
    const [username, ...rest] = Buffer.from(encoded ?? '', 'base64')
      .toString()
      .split(':');
    const account = ctx.state.config.twilio.accounts.find(
      (a) => a.accountSid === username && a.authToken === rest.join(':'),
    );
    if (!account || account.accountSid !== req.params.accountSid) {
      res.set('WWW-Authenticate', 'Basic realm="Twilio API"');
      const detail = 'Your AccountSid or AuthToken was incorrect.';
      return void res.status(401).json(twilioError(401, 20003, 'Authenticate', detail));
    }
    next();
  };
}
