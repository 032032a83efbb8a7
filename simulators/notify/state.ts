// What the notify simulator holds: the mailbox, the delivery rules, where webhooks go and what
// happened to them, and the SMTP server's address. GET /_sim/state shows it all; POST /_sim/reset
// empties the mailbox, cancels deliveries still pending and brings back the configured defaults.
import { SeededIds, type SimulatorState } from '../kit/index.ts';
import type { NotifyConfig } from './config.ts';
import { type Channel, DeliveryRules } from './delivery-rules.ts';
import type { LatencySpec } from './latency.ts';
import { Mailbox } from './messages.ts';

/** One attempt to deliver one webhook. */
export interface WebhookAttempt {
  kind: 'sendgrid-event' | 'twilio-status-callback';
  url: string;
  messageId: string;
  /** The SendGrid event (`processed`, `delivered`, `bounce`, `dropped`) or Twilio `MessageStatus`. */
  event: string;
  attempt: number;
  /** The receiver's HTTP status, or null when it did not answer. */
  status: number | null;
  error: string | null;
  at: string;
}

export interface WebhookTargets {
  email: string | null;
  sms: string | null;
}

const webhookLogLimit = 1_000;

export class NotifyState implements SimulatorState {
  readonly config: NotifyConfig;
  readonly mailbox: Mailbox;
  readonly rules: DeliveryRules;
  webhooks: WebhookTargets;
  webhookLog: WebhookAttempt[] = [];
  /** Where the SMTP server listens, once started. */
  smtp: { host: string; port: number } | null = null;
  /** Set by the delivery runtime: drops deliveries still waiting for their time. */
  cancelPending: () => number = () => 0;
  /**
   * Message ids (Twilio SIDs, SendGrid's X-Message-Id, SMTP ids) from the seed, not at random:
   * requests that name a message (fetching it by SID) are fingerprinted by it, so one seed must
   * give the same ids. Restarted by reset(), like everything else.
   */
  readonly ids = new SeededIds(0);
  #sequence = new Map<string, number>();

  constructor(config: NotifyConfig) {
    this.config = config;
    this.mailbox = new Mailbox(config.mailboxLimit);
    this.rules = new DeliveryRules(config.deliveryRules);
    this.webhooks = this.#configuredTargets();
  }

  latencyFor(channel: Channel): LatencySpec {
    return this.config.latency[channel];
  }

  /** The how-many-th message to this recipient this is: the key of its seeded latency draw. */
  nextSequence(key: string): number {
    const next = (this.#sequence.get(key) ?? 0) + 1;
    this.#sequence.set(key, next);
    return next;
  }

  recordWebhook(attempt: WebhookAttempt): void {
    this.webhookLog.push(attempt);
    if (this.webhookLog.length > webhookLogLimit) this.webhookLog.shift();
  }

  snapshot() {
    const { messages, dropped } = this.mailbox.snapshot();
    return {
      smtp: this.smtp,
      counts: this.mailbox.counts(),
      messages,
      droppedMessages: dropped,
      deliveryRules: this.rules.list(),
      latency: this.config.latency,
      webhooks: { targets: this.webhooks, attempts: this.webhookLog },
    };
  }

  reset(): void {
    this.cancelPending();
    this.mailbox.clear();
    this.rules.reset();
    this.webhooks = this.#configuredTargets();
    this.webhookLog = [];
    this.#sequence.clear();
    this.ids.reset();
  }

  #configuredTargets(): WebhookTargets {
    return { email: this.config.webhooks.email ?? null, sms: this.config.webhooks.sms ?? null };
  }
}
