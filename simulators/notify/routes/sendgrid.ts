// SendGrid's v3 mail send API: `POST /v3/mail/send` with `Authorization: Bearer SG.…`, answered
// 202 with an empty body and `X-Message-Id`, as SendGrid does. Each recipient becomes a message of
// its own whose id is SendGrid's `sg_message_id`: the X-Message-Id, a dot, and a per-recipient part.
import type { Request, Router } from 'express';
import type { SimulatorContext } from '../../kit/index.ts';
import type { Deliveries } from '../delivery.ts';
import type { NotifyState } from '../state.ts';
import { sendgridErrors } from '../vendor.ts';
import { activityJson, matchesActivity, parseActivityQuery } from './sendgrid-activity.ts';
import { copiesOf, type SendgridMail, validateMail } from './sendgrid-mail.ts';

export function installSendgrid(router: Router, ctx: SimulatorContext<NotifyState>, deliveries: Deliveries) {
  router.post('/v3/mail/send', (req, res) => {
    const denied = authProblem(req, ctx.state.config.sendgrid.apiKeys);
    if (denied) return void res.status(401).json(sendgridErrors([{ message: denied }]));
    const errors = validateMail(req.body);
    if (errors.length > 0) return void res.status(400).json(sendgridErrors(errors));
    const mail = req.body as SendgridMail;
    // sandbox mode validates and answers, and sends nothing
    if (mail.mail_settings?.sandbox_mode?.enable) return void res.status(200).end();
    const xMessageId = ctx.state.ids.base64url('sendgrid-message', 16).slice(0, 22);
    copiesOf(mail).forEach((copy, index) => {
      deliveries.accept(
        {
          ...copy,
          id: `${xMessageId}.sim${index}`,
          channel: 'email',
          via: 'sendgrid',
          from: mail.from.email,
        },
        req,
      );
    });
    res.status(202).set('X-Message-Id', xMessageId).end();
  });

  // the Email Activity Feed (see sendgrid-activity.ts): the messages sent through SendGrid
  router.get('/v3/messages', (req, res) => {
    const denied = authProblem(req, ctx.state.config.sendgrid.apiKeys);
    if (denied) return void res.status(401).json(sendgridErrors([{ message: denied }]));
    const limit = req.query.limit === undefined ? 10 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return void res
        .status(400)
        .json(sendgridErrors([{ message: 'limit must be 1 to 1000', field: 'limit' }]));
    }
    const query = typeof req.query.query === 'string' ? req.query.query : undefined;
    const conditions = query === undefined ? [] : parseActivityQuery(query);
    if (typeof conditions === 'string') {
      return void res.status(400).json(sendgridErrors([{ message: conditions, field: 'query' }]));
    }
    const messages = ctx.state.mailbox
      .find({ channel: 'email', status: 'any' })
      .filter((m) => m.via === 'sendgrid' && matchesActivity(m, conditions))
      .reverse()
      .slice(0, limit);
    res.json({ messages: messages.map(activityJson) });
  });
}

/** SendGrid's 401 message, or null when the key is accepted. */
function authProblem(req: Request, apiKeys: string[] | undefined): string | null {
  const header = req.get('authorization');
  if (!header) return 'authorization required';
  const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const valid =
    key !== undefined && (apiKeys ? apiKeys.includes(key) : key.startsWith('SG.') && key.length > 3);
  return valid ? null : 'The provided authorization grant is invalid, expired, or revoked';
}
