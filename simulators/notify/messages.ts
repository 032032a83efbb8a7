// The mailbox: every message the simulator accepted, email and SMS, one entry per recipient, in
// the order they were accepted. Tests read it through GET /_sim/messages, which can wait for the
// first message that matches: the waiters here are woken on every status change.
import type { Api, Channel } from './delivery-rules.ts';
import { recipientMatcher } from './recipients.ts';

export type MessageStatus =
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'bounced'
  | 'dropped'
  | 'undelivered'
  | 'failed';

export interface NotifyMessage {
  /** Unique per recipient: SendGrid's `sg_message_id`, Twilio's `SM…` sid, or the SMTP copy's id. */
  id: string;
  channel: Channel;
  via: Api;
  from: string;
  /** This copy's recipient. */
  to: string;
  /** Everyone the message was addressed to (email: To and Cc; Bcc only as `to` of its own copy). */
  recipients: string[];
  subject: string | null;
  text: string | null;
  html: string | null;
  /** http(s) links of the HTML and text parts (and of a template's data), without duplicates. */
  links: string[];
  status: MessageStatus;
  history: { status: MessageStatus; at: string }[];
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  /** Why it bounced, was dropped or failed: Twilio's error code, or the SMTP-style reason. */
  error: { code: number | string; reason: string } | null;
  /** The delivery rules that decided its outcome and its latency, if any. */
  rules: { outcome: string | null; latency: string | null };
  latencyMs: number;
  /** What the vendor's API was given that has no common field (custom args, template, callback URL). */
  vendor: Record<string, unknown>;
}

export interface MessageQuery {
  to?: string;
  channel?: Channel;
  /** Default `delivered`; `any` for every status. */
  status?: MessageStatus | 'any';
}

export class Mailbox {
  readonly #limit: number;
  #messages = new Map<string, NotifyMessage>();
  #waiters = new Set<() => void>();
  #dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(message: NotifyMessage): void {
    this.#messages.set(message.id, message);
    if (this.#messages.size > this.#limit) {
      const oldest = this.#messages.keys().next().value!;
      this.#messages.delete(oldest);
      this.#dropped++;
    }
    this.changed();
  }

  get(id: string): NotifyMessage | undefined {
    return this.#messages.get(id);
  }

  /** Wakes the waiters; call after any change of a message's status. */
  changed(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Matching messages, oldest first. */
  find(query: MessageQuery): NotifyMessage[] {
    const to = query.to === undefined ? undefined : recipientMatcher(query.to);
    const status = query.status ?? 'delivered';
    return [...this.#messages.values()].filter(
      (message) =>
        (status === 'any' || message.status === status) &&
        (query.channel === undefined || message.channel === query.channel) &&
        (to === undefined || to(message.to)),
    );
  }

  /** Matching messages at once if there are any, else the first ones to appear within `waitMs`. */
  async waitFor(query: MessageQuery, waitMs: number, signal: AbortSignal): Promise<NotifyMessage[]> {
    const now = this.find(query);
    if (now.length > 0 || waitMs <= 0 || signal.aborted) return now;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        this.#waiters.delete(check);
        resolve(this.find(query));
      };
      const check = () => {
        if (this.find(query).length > 0) finish();
      };
      const timer = setTimeout(finish, waitMs);
      signal.addEventListener('abort', finish, { once: true });
      this.#waiters.add(check);
    });
  }

  clear(): number {
    const removed = this.#messages.size;
    this.#messages.clear();
    this.#dropped = 0;
    this.changed();
    return removed;
  }

  snapshot() {
    return { messages: [...this.#messages.values()], dropped: this.#dropped };
  }

  /** How many of each status, for /_sim/state at a glance. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { status } of this.#messages.values()) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }
}
