// The vendors the control plane's flows call, through each vendor's official SDK, configured by
// the settings in config.ts as a production deployment would be (real hosts by default; a test
// environment sends those hosts to simulators with harness/intercept, or sets STRIPE_API_URL).
// A vendor whose settings are missing is absent: the flows that need it fail with a message
// naming the settings.
import { createHash } from 'node:crypto';
import sendgridClient from '@sendgrid/client';
import sendgridMail from '@sendgrid/mail';
import { ManagementClient } from 'auth0';
import jsforce from 'jsforce';
import Stripe from 'stripe';
import twilio from 'twilio';
import type { Config } from '../config.ts';

// the packages export these classes at run time; their type declarations only name the singletons
const { Client: SendgridClient } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };
const { MailService } = sendgridMail as unknown as { MailService: new () => typeof sendgridMail };

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Kept with the message (SendGrid `custom_args`): finds it again, and a resend of the same one. */
  idempotencyKey: string;
  category: string;
}

/** A message the vendor already has, found again after an attempt whose outcome is unknown. */
export interface FoundMessage {
  id: string;
  status: string;
}

export interface EmailVendor {
  send(message: EmailMessage): Promise<void>;
  /**
   * The message sent to `to` under `idempotencyKey` (its custom arg), from SendGrid's Email Activity
   * Feed, or undefined. The feed is eventually consistent at real SendGrid (a message can take
   * seconds to minutes to appear), and rate limited (6 requests a minute): an absent answer
   * shortly after the send is not proof that it did not go out.
   */
  findSent(idempotencyKey: string, to: string): Promise<FoundMessage | undefined>;
}

export interface SmsVendor {
  send(message: { to: string; body: string; idempotencyKey: string }): Promise<{ sid: string }>;
  /** A message to `to`, sent at or after `since`, whose body contains `marker`; or undefined. */
  findSent(query: { to: string; marker: string; since: Date }): Promise<FoundMessage | undefined>;
}

export interface Vendors {
  stripe?: Stripe;
  salesforce?: SalesforceClient;
  auth?: ManagementClient;
  email?: EmailVendor;
  sms?: SmsVendor;
}

/**
 * A short reference derived from an idempotency key, for a message body that carries nothing else
 * (SMS): `Ref` and eight base-32 characters, so a retry can find the message it may have sent.
 */
export function messageRef(idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest();
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let ref = '';
  for (let i = 0; i < 8; i++) ref += alphabet[digest[i]! % alphabet.length];
  return `Ref ${ref}`;
}

/** An Activity Feed query value: SendGrid's strings are double-quoted, with `"` and `\` escaped. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** A vendor the flow needs is not configured: the message names the settings. */
export class VendorMissingError extends Error {
  constructor(vendor: string, settings: string[]) {
    super(`${vendor} is not configured: set ${settings.join(', ')}`);
    this.name = 'VendorMissingError';
  }
}

/** jsforce over the username-password OAuth flow: logs in on first use and again when the session expires. */
export class SalesforceClient {
  #connection: Promise<jsforce.Connection> | undefined;
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
  }

  connection(): Promise<jsforce.Connection> {
    this.#connection ??= this.#login().catch((error) => {
      this.#connection = undefined;
      throw error;
    });
    return this.#connection;
  }

  /** Runs `work` with a logged-in connection; an expired session logs in again once. */
  async run<T>(work: (connection: jsforce.Connection) => Promise<T>): Promise<T> {
    try {
      return await work(await this.connection());
    } catch (error) {
      if ((error as { errorCode?: string }).errorCode !== 'INVALID_SESSION_ID') throw error;
      this.#connection = undefined;
      return work(await this.connection());
    }
  }

  async #login(): Promise<jsforce.Connection> {
    const c = this.#config;
    const connection = new jsforce.Connection({
      oauth2: {
        clientId: c.SALESFORCE_CLIENT_ID!,
        clientSecret: c.SALESFORCE_CLIENT_SECRET!,
        loginUrl: c.SALESFORCE_LOGIN_URL,
      },
      version: '62.0',
    });
    await connection.login(c.SALESFORCE_USERNAME!, c.SALESFORCE_PASSWORD!);
    return connection;
  }
}

export function createVendors(config: Config): Vendors {
  const vendors: Vendors = {};
  if (config.STRIPE_SECRET_KEY) {
    const url = config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : undefined;
    vendors.stripe = new Stripe(config.STRIPE_SECRET_KEY, {
      ...(url
        ? {
            host: url.hostname,
            port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            protocol: url.protocol.replace(':', '') as 'http' | 'https',
          }
        : {}),
      timeout: config.VENDOR_TIMEOUT_MS,
      // the flow engine retries, under one idempotency key per effect
      maxNetworkRetries: 0,
      telemetry: false,
    });
  }
  if (
    config.SALESFORCE_CLIENT_ID &&
    config.SALESFORCE_CLIENT_SECRET &&
    config.SALESFORCE_USERNAME &&
    config.SALESFORCE_PASSWORD
  )
    vendors.salesforce = new SalesforceClient(config);
  if (
    config.AUTH_MANAGEMENT_DOMAIN &&
    config.AUTH_MANAGEMENT_CLIENT_ID &&
    config.AUTH_MANAGEMENT_CLIENT_SECRET
  ) {
    vendors.auth = new ManagementClient({
      domain: config.AUTH_MANAGEMENT_DOMAIN,
      clientId: config.AUTH_MANAGEMENT_CLIENT_ID,
      clientSecret: config.AUTH_MANAGEMENT_CLIENT_SECRET,
      ...(config.AUTH_MANAGEMENT_AUDIENCE ? { audience: config.AUTH_MANAGEMENT_AUDIENCE } : {}),
      timeoutInSeconds: Math.ceil(config.VENDOR_TIMEOUT_MS / 1000),
      // the flow engine retries
      maxRetries: 0,
    });
  }
  if (config.SENDGRID_API_KEY) {
    const client = new SendgridClient();
    client.setApiKey(config.SENDGRID_API_KEY);
    client.setDefaultRequest({ timeout: config.VENDOR_TIMEOUT_MS } as never);
    const mail = new MailService();
    mail.setClient(client);
    vendors.email = {
      async send(message) {
        await mail.send({
          to: message.to,
          from: config.NOTIFY_FROM_EMAIL,
          subject: message.subject,
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
          categories: [message.category],
          customArgs: { idempotency_key: message.idempotencyKey },
        });
      },
      async findSent(idempotencyKey, to) {
        const query = `unique_args['idempotency_key']=${quoted(idempotencyKey)} AND to_email=${quoted(to)}`;
        const [, body] = await client.request({
          method: 'GET',
          url: '/v3/messages',
          qs: { query, limit: 10 },
        });
        const messages = (body as { messages?: { msg_id: string; status: string }[] }).messages ?? [];
        const found = messages[0];
        return found ? { id: found.msg_id, status: found.status } : undefined;
      },
    };
  }
  if (config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM_NUMBER) {
    const client = twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, {
      timeout: config.VENDOR_TIMEOUT_MS,
    });
    vendors.sms = {
      async send(message) {
        const sent = await client.messages.create({
          to: message.to,
          from: config.TWILIO_FROM_NUMBER!,
          body: message.body,
        });
        return { sid: sent.sid };
      },
      async findSent({ to, marker, since }) {
        // newest first; a reset or an invitation sends few messages to one number in a window
        const messages = await client.messages.list({
          to,
          from: config.TWILIO_FROM_NUMBER!,
          dateSentAfter: since,
          limit: 100,
        });
        const found = messages.find((m) => m.body?.includes(marker));
        return found ? { id: found.sid, status: found.status } : undefined;
      },
    };
  }
  return vendors;
}

/** The vendor, or a VendorMissingError naming its settings (for a flow step to fail with). */
export function need<K extends keyof Vendors>(vendors: Vendors, name: K): NonNullable<Vendors[K]> {
  const vendor = vendors[name];
  if (vendor) return vendor as NonNullable<Vendors[K]>;
  const settings: Record<keyof Vendors, string[]> = {
    stripe: ['STRIPE_SECRET_KEY'],
    salesforce: [
      'SALESFORCE_CLIENT_ID',
      'SALESFORCE_CLIENT_SECRET',
      'SALESFORCE_USERNAME',
      'SALESFORCE_PASSWORD',
    ],
    auth: ['AUTH_MANAGEMENT_DOMAIN', 'AUTH_MANAGEMENT_CLIENT_ID', 'AUTH_MANAGEMENT_CLIENT_SECRET'],
    email: ['SENDGRID_API_KEY'],
    sms: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM_NUMBER'],
  };
  throw new VendorMissingError(name, settings[name]);
}
