// From acceptance to delivery: every accepted message is planned (outcome and latency, by the
// delivery rules), stored as `queued`, and moved through its statuses on the simulator clock;
// each change that the vendor reports is sent as a webhook. The webhooks run after the request
// that caused them has been answered, so each runs in a span of its own linked to that request,
// and stop() waits for the ones in flight.
import type { inLinkedSpan, SimulatorContext } from '../kit/index.ts';
import type { Channel, DeliveryPlan, Outcome } from './delivery-rules.ts';
import { drawLatencyMs } from './latency.ts';
import type { MessageStatus, NotifyMessage } from './messages.ts';
import { normalizeRecipient } from './recipients.ts';
import { Scheduler } from './scheduler.ts';
import type { NotifyState } from './state.ts';
import {
  postWithRetry,
  type SendgridEventName,
  sendgridEvent,
  twilioSignature,
  twilioStatusParams,
} from './webhooks.ts';

/** What caused a message: the request that sent it, or the span of an SMTP transaction. */
export type Cause = Parameters<typeof inLinkedSpan>[1];

export type MessageDraft = Omit<
  NotifyMessage,
  'status' | 'history' | 'createdAt' | 'sentAt' | 'deliveredAt' | 'error' | 'rules' | 'latencyMs'
>;

// the statuses after `queued`; the last comes at the full latency, the others evenly before it
const paths: Record<Channel, Record<Outcome, MessageStatus[]>> = {
  email: { deliver: ['sent', 'delivered'], bounce: ['sent', 'bounced'], fail: ['dropped'] },
  sms: { deliver: ['sent', 'delivered'], bounce: ['sent', 'undelivered'], fail: ['failed'] },
};

const emailEvents: Partial<Record<MessageStatus, SendgridEventName>> = {
  delivered: 'delivered',
  bounced: 'bounce',
  dropped: 'dropped',
};

const twilioDeliveryErrors: Record<number, string> = {
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};

export class Deliveries {
  readonly #ctx: SimulatorContext<NotifyState>;
  readonly #scheduler: Scheduler;

  constructor(ctx: SimulatorContext<NotifyState>) {
    this.#ctx = ctx;
    this.#scheduler = new Scheduler(() => ctx.clock.now());
    ctx.state.cancelPending = () => this.#scheduler.cancelAll();
    // deliveries not yet due die with the simulator; webhooks in flight are tracked and finish
    ctx.signal.addEventListener('abort', () => this.#scheduler.cancelAll(), { once: true });
  }

  /** Runs the steps that came due when the clock was moved forward. */
  runDue(nowMs: number): void {
    this.#scheduler.runDue(nowMs);
  }

  /** Stores the message as `queued` and schedules its delivery; returns the stored message. */
  accept(draft: MessageDraft, cause: Cause): NotifyMessage {
    const { state, clock, seed } = this.#ctx;
    const plan = state.rules.decide(draft);
    const key = `${draft.channel}:${normalizeRecipient(draft.to)}`;
    const spec = plan.latency ?? state.latencyFor(draft.channel);
    const latencyMs = Math.round(drawLatencyMs(spec, seed, `${key}:${state.nextSequence(key)}`) * 10) / 10;
    const nowMs = clock.now();
    const at = new Date(nowMs).toISOString();
    // identity first, so a message reads from the top in /_sim/messages
    const { id, channel, via, ...content } = draft;
    const message: NotifyMessage = {
      id,
      channel,
      via,
      ...content,
      status: 'queued',
      history: [{ status: 'queued', at }],
      createdAt: at,
      sentAt: null,
      deliveredAt: null,
      error: null,
      rules: { outcome: plan.outcomeRule, latency: plan.latencyRule },
      latencyMs,
    };
    state.mailbox.add(message);
    // SendGrid reports `processed` as soon as it has taken the message; a dropped one never is
    if (draft.channel === 'email' && plan.outcome !== 'fail') this.#emailEvent(message, 'processed', cause);
    const path = paths[draft.channel][plan.outcome];
    path.forEach((status, index) => {
      const dueMs = nowMs + (latencyMs * (index + 1)) / path.length;
      this.#scheduler.at(dueMs, () => this.#advance(message, status, plan, cause));
    });
    return message;
  }

  #advance(message: NotifyMessage, status: MessageStatus, plan: DeliveryPlan, cause: Cause): void {
    const at = this.#ctx.clock.date().toISOString();
    message.status = status;
    message.history.push({ status, at });
    if (status === 'sent') message.sentAt = at;
    else if (status === 'delivered') message.deliveredAt = at;
    else message.error = errorFor(message.channel, status, plan);
    this.#ctx.state.mailbox.changed();
    if (message.channel === 'sms') this.#smsCallback(message, cause);
    else if (emailEvents[status]) this.#emailEvent(message, emailEvents[status], cause);
  }

  #emailEvent(message: NotifyMessage, event: SendgridEventName, cause: Cause): void {
    const url = this.#ctx.state.webhooks.email;
    if (!url) return;
    const body = JSON.stringify([sendgridEvent(message, event, this.#ctx.clock.now())]);
    const headers = { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' };
    this.#post('sendgrid-event', url, body, headers, message, event, cause);
  }

  #smsCallback(message: NotifyMessage, cause: Cause): void {
    const vendor = message.vendor as { statusCallback?: string | null; accountSid: string };
    const url = vendor.statusCallback ?? this.#ctx.state.webhooks.sms;
    if (!url) return;
    const params = twilioStatusParams(message);
    const account = this.#ctx.state.config.twilio.accounts.find((a) => a.accountSid === vendor.accountSid);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      ...(account ? { 'x-twilio-signature': twilioSignature(account.authToken, url, params) } : {}),
    };
    const body = new URLSearchParams(params).toString();
    this.#post('twilio-status-callback', url, body, headers, message, message.status, cause);
  }

  #post(
    kind: 'sendgrid-event' | 'twilio-status-callback',
    url: string,
    body: string,
    headers: Record<string, string>,
    message: NotifyMessage,
    event: string,
    cause: Cause,
  ): void {
    const ctx = this.#ctx;
    const work = ctx.inLinkedSpan(`notify.webhook.${kind}`, cause, async (span) => {
      span.setAttributes({ 'sim.message_id': message.id, 'sim.webhook.event': event, 'url.full': url });
      const delivered = await postWithRetry({
        url,
        body,
        headers: { ...headers, ...ctx.traceHeaders() },
        policy: ctx.state.config.webhookRetry,
        signal: ctx.signal,
        allowExternal: ctx.state.config.allowExternalWebhooks,
        report: (attempt, status, error) =>
          ctx.state.recordWebhook({
            kind,
            url,
            messageId: message.id,
            event,
            attempt,
            status,
            error,
            at: ctx.clock.date().toISOString(),
          }),
      });
      span.setAttribute('sim.webhook.delivered', delivered);
      if (!delivered) ctx.logger.warn({ url, kind, event, messageId: message.id }, 'webhook not delivered');
    });
    ctx.track(work).catch((error: Error) => ctx.logger.error({ err: error }, 'webhook delivery crashed'));
  }
}

function errorFor(channel: Channel, status: MessageStatus, plan: DeliveryPlan): NotifyMessage['error'] {
  if (channel === 'email') {
    return status === 'bounced'
      ? {
          code: '5.1.1',
          reason: plan.reason ?? '550 5.1.1 The email account that you tried to reach does not exist.',
        }
      : { code: 'dropped', reason: plan.reason ?? 'Invalid' };
  }
  const code = plan.errorCode ?? (status === 'undelivered' ? 30003 : 30008);
  return { code, reason: plan.reason ?? twilioDeliveryErrors[code] ?? 'Message delivery failed' };
}
