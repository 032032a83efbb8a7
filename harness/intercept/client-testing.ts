// A process under test for the interception tests, started with the preload. It uses the vendors'
// official SDKs as a production control plane would, with their default hosts, plus plain
// requests and an SMTP send that must pass through, and prints one JSON line: each step's result
// and the preload's counters.
//
//   node --import harness/intercept/preload.ts harness/intercept/client-testing.ts '[{"kind":"stripe"}]'
import { request as httpRequest } from 'node:http';
import sendgrid from '@sendgrid/mail';
import { AuthenticationClient } from 'auth0/legacy';
import jsforce from 'jsforce';
import nodemailer from 'nodemailer';
import Stripe from 'stripe';
import twilio from 'twilio';
import { interceptStats } from './stats.ts';

export type ClientStep =
  | { kind: 'stripe'; email: string }
  | { kind: 'sendgrid'; to: string }
  | { kind: 'twilio'; to: string; accountSid: string; authToken: string }
  /** jsforce's password grant at its default login.salesforce.com, then a Task. */
  | { kind: 'salesforce'; username: string; password: string; clientId: string; clientSecret: string }
  /** The auth0 SDK's client credentials grant at https://<domain>/oauth/token; answers the token's claims. */
  | { kind: 'auth0'; domain: string; clientId: string; clientSecret: string; audience: string }
  /** GET with fetch and with node:http; answers the bodies. */
  | { kind: 'get'; url: string }
  | { kind: 'smtp'; host: string; port: number; to: string };

async function run(step: ClientStep): Promise<unknown> {
  switch (step.kind) {
    case 'stripe': {
      const customer = await new Stripe('sk_test_planewright_intercept').customers.create({
        email: step.email,
      });
      return { id: customer.id };
    }
    case 'sendgrid': {
      sendgrid.setApiKey('SG.planewright-intercept.secret');
      const [response] = await sendgrid.send({
        to: step.to,
        from: 'app@example.test',
        subject: 'Intercepted',
        text: 'Sent to api.sendgrid.com, received by the simulator.',
      });
      return { status: response.statusCode, messageId: response.headers['x-message-id'] };
    }
    case 'twilio': {
      const message = await twilio(step.accountSid, step.authToken).messages.create({
        to: step.to,
        from: '+15550000001',
        body: 'Sent to api.twilio.com, received by the simulator.',
      });
      return { sid: message.sid };
    }
    case 'salesforce': {
      const { username, password, clientId, clientSecret } = step;
      const conn = new jsforce.Connection({ version: '62.0', oauth2: { clientId, clientSecret } });
      await conn.login(username, password);
      const task = await conn.sobject('Task').create({ Subject: 'Intercepted login' });
      return { instanceUrl: conn.instanceUrl, taskId: task.id };
    }
    case 'auth0': {
      const { domain, clientId, clientSecret, audience } = step;
      const { data } = await new AuthenticationClient({
        domain,
        clientId,
        clientSecret,
      }).oauth.clientCredentialsGrant({
        audience,
      });
      return JSON.parse(Buffer.from(data.access_token.split('.')[1]!, 'base64url').toString('utf8'));
    }
    case 'get': {
      const viaFetch = await fetch(step.url);
      const viaHttp = await new Promise<string>((resolve, reject) => {
        httpRequest(step.url, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
      return { fetch: await viaFetch.text(), http: viaHttp };
    }
    case 'smtp': {
      const info = await nodemailer
        .createTransport({ host: step.host, port: step.port, secure: false })
        .sendMail({ from: 'app@example.test', to: step.to, subject: 'Over SMTP', text: 'Not intercepted.' });
      return { accepted: info.accepted };
    }
  }
}

const steps = JSON.parse(process.argv[2] ?? '[]') as ClientStep[];
const results: unknown[] = [];
for (const step of steps) results.push(await run(step));
process.stdout.write(`${JSON.stringify({ results, stats: interceptStats() })}\n`);
