// The notify simulator: email over SMTP and SendGrid's v3 send API, SMS over Twilio's Messages
// API, delivered after a configurable latency with the vendors' status webhooks, and a mailbox
// that tests wait on (GET /_sim/messages?to=…&wait=5s). See docs/simulators.md.
//
// @example
//   await using sim = await createNotifySimulator({ seed: 1 }).start();
//   // SendGrid at sim.url, Twilio at sim.url (account defaultTwilioAccount), SMTP at sim.smtpPort
import { type NotifyOptions, resolveNotifyConfig } from './config.ts';
import { NotifySimulator } from './server.ts';

/** The notify simulator, not started; `planewright sim notify` and the harness start it. */
export function createNotifySimulator(options: NotifyOptions = {}): NotifySimulator {
  return new NotifySimulator(resolveNotifyConfig(options), options);
}

// options and their defaults
export { defaultLatency, defaultTwilioAccount, type NotifyOptions } from './config.ts';
export { type DeliveryRule, type DeliveryRuleInput, defaultDeliveryRules } from './delivery-rules.ts';
export type { LatencySpec } from './latency.ts';
// what the mailbox holds
export { extractLinks } from './links.ts';
export type { MessageQuery, MessageStatus, NotifyMessage } from './messages.ts';
export { NotifySimulator, type StartedNotifySimulator } from './server.ts';
export type { NotifyState, WebhookAttempt } from './state.ts';
