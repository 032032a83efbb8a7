// SendGrid's Email Activity Feed API, the subset a sender needs to find a message again:
// `GET /v3/messages?query=…&limit=N`, with the same API-key auth as mail send. The query language
// is SendGrid's: conditions `field="value"` joined by AND, over `to_email`, `from_email`,
// `subject`, `msg_id`, `status` and `unique_args['name']` (the custom args the message was sent
// with). Answers `{ messages: [{ msg_id, from_email, subject, to_email, status, opens_count,
// clicks_count, last_event_time }] }`, newest first; a query it cannot parse is a 400.
// Unlike real SendGrid (eventually consistent: a message shows up seconds to minutes after its
// 202; 6 requests a minute), a message is listed as soon as it is accepted.
import type { NotifyMessage } from '../messages.ts';

export interface ActivityCondition {
  field: 'to_email' | 'from_email' | 'subject' | 'msg_id' | 'status' | 'unique_args';
  /** The custom arg's name, for `unique_args['name']`. */
  arg?: string;
  value: string;
}

const fieldPattern = /^(to_email|from_email|subject|msg_id|status)$/;
const condition = /^\s*(?:unique_args\[['"]([^'"]+)['"]\]|([a-z_]+))\s*=\s*"((?:[^"\\]|\\.)*)"\s*/i;

/** The query's conditions, or an error message when it is not one this subset understands. */
export function parseActivityQuery(query: string): ActivityCondition[] | string {
  const conditions: ActivityCondition[] = [];
  let rest = query.trim();
  if (!rest) return 'query is empty';
  for (;;) {
    const match = condition.exec(rest);
    if (!match) return `unable to parse query near: ${rest.slice(0, 40)}`;
    const [whole, arg, field, raw] = match;
    const value = raw!.replace(/\\(.)/g, '$1');
    if (arg !== undefined) conditions.push({ field: 'unique_args', arg, value });
    else if (fieldPattern.test(field!.toLowerCase()))
      conditions.push({ field: field!.toLowerCase() as ActivityCondition['field'], value });
    else return `unknown query field: ${field}`;
    rest = rest.slice(whole.length);
    if (!rest) return conditions;
    const and = /^AND\s+/i.exec(rest);
    if (!and) return `unable to parse query near: ${rest.slice(0, 40)}`;
    rest = rest.slice(and[0].length);
  }
}

/** SendGrid's three activity statuses. */
function activityStatus(message: NotifyMessage): 'processed' | 'delivered' | 'not_delivered' {
  if (message.status === 'delivered') return 'delivered';
  if (message.status === 'queued' || message.status === 'sent') return 'processed';
  return 'not_delivered';
}

const customArgsOf = (message: NotifyMessage) =>
  ((message.vendor as { customArgs?: Record<string, unknown> }).customArgs ?? {}) as Record<string, unknown>;

export function matchesActivity(message: NotifyMessage, conditions: ActivityCondition[]): boolean {
  return conditions.every((c) => {
    switch (c.field) {
      case 'to_email':
        return message.to.toLowerCase() === c.value.toLowerCase();
      case 'from_email':
        return message.from.toLowerCase() === c.value.toLowerCase();
      case 'subject':
        return message.subject === c.value;
      case 'msg_id':
        return message.id === c.value;
      case 'status':
        return activityStatus(message) === c.value;
      default: {
        const value = customArgsOf(message)[c.arg!];
        return value !== undefined && String(value) === c.value;
      }
    }
  });
}

export function activityJson(message: NotifyMessage) {
  return {
    msg_id: message.id,
    from_email: message.from,
    subject: message.subject ?? '',
    to_email: message.to,
    status: activityStatus(message),
    opens_count: 0,
    clicks_count: 0,
    last_event_time: message.history.at(-1)?.at ?? message.createdAt,
  };
}
