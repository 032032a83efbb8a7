// Helpers for the notify simulator's tests: start it, point the vendors' SDKs at it, read its
// mailbox, and receive its webhooks on a local server that can be told to fail.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import sendgridClient from '@sendgrid/client';
import sendgrid from '@sendgrid/mail';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { createNotifySimulator, defaultTwilioAccount, type NotifyOptions } from './index.ts';

/** Starts a notify simulator with seed 1 and quick fixed latencies unless told otherwise. */
export function startNotify(options: NotifyOptions = {}) {
  return createNotifySimulator({
    seed: 1,
    latency: { email: { ms: 5 }, sms: { ms: 5 } },
    ...options,
  }).start();
}

/**
 * `@sendgrid/mail` pointed at the simulator: its client's `baseUrl` default request option
 * (set after the API key, which resets it to SendGrid's host).
 */
// both packages are CommonJS whose types declare the default instance only; the classes are on it
const { Client: ClientClass } = sendgridClient as unknown as { Client: new () => typeof sendgridClient };
const { MailService: MailServiceClass } = sendgrid as unknown as { MailService: new () => typeof sendgrid };

export function sendgridMail(baseUrl: string, apiKey = 'SG.test-key.secret') {
  const client = new ClientClass();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', `${baseUrl}/`);
  const mail = new MailServiceClass();
  mail.setClient(client);
  return mail;
}

/**
 * The `twilio` package pointed at the simulator through its documented custom `httpClient`,
 * which sends each request to the simulator's origin instead of api.twilio.com.
 */
export function twilioClient(baseUrl: string, account = defaultTwilioAccount) {
  class SimulatorRequestClient extends twilio.RequestClient {
    override request<T>(opts: RequestClient.RequestOptions<T>) {
      const uri = new URL(opts.uri);
      return super.request({ ...opts, uri: `${baseUrl}${uri.pathname}${uri.search}` });
    }
  }
  return twilio(account.accountSid, account.authToken, { httpClient: new SimulatorRequestClient() });
}

/** The error a call fails with; it fails the test if the call succeeds. */
// biome-ignore lint/suspicious/noExplicitAny: the SDKs' errors carry the vendor's answer untyped
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** GET a URL and read its JSON answer. */
// biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
export async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** GET /_sim/messages with the given query. */
export async function mailbox(baseUrl: string, query: Record<string, string>) {
  const response = await fetch(`${baseUrl}/_sim/messages?${new URLSearchParams(query)}`);
  // biome-ignore lint/suspicious/noExplicitAny: tests read the whole message
  return { status: response.status, body: (await response.json()) as any };
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  url: string;
}

/** A webhook receiver; `failFirst` answers the first N requests 500 to exercise retries. */
export async function webhookReceiver(options: { failFirst?: number } = {}) {
  const received: ReceivedWebhook[] = [];
  let failuresLeft = options.failFirst ?? 0;
  let attempts = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      attempts++;
      if (failuresLeft > 0) {
        failuresLeft--;
        res.statusCode = 500;
        return void res.end();
      }
      received.push({ headers: req.headers, body, url: req.url ?? '/' });
      res.end('ok');
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    attempts: () => attempts,
    /** Waits until `count` webhooks have been received (successfully). */
    async waitFor(count: number, timeoutMs = 5_000): Promise<ReceivedWebhook[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return received;
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
