// Password reset, end to end: the public API answers at once (the same for an unknown address),
// the flow asks the auth simulator for a password-change ticket, emails the link through SendGrid
// and sends an SMS notice through Twilio; every effect is counted in the simulators, and the SLOs
// of scenarios/slos/password-reset.yaml are checked on each request's own trace: API p99 under
// 100 ms, SMS delivered within 30 s and email within 2 min of the request. Variants: Twilio
// throttles briefly (the flow backs off and the SMS still makes its SLO), or for longer than the
// SLO in an environment of its own whose traces stay out of the run's table (the table says FAIL).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject } from 'vitest';
import { startEnvironment } from '../harness/env/index.ts';
import { eventually, scenario } from '../harness/fixtures.ts';
import {
  checkSlos,
  formatSloTable,
  loadSlos,
  type SloResult,
  type TraceSpan,
  type TraceStore,
} from '../harness/traces/index.ts';

const test = scenario({ simulators: ['auth', 'notify'] });

const slos = await loadSlos(join(import.meta.dirname, 'slos', 'password-reset.yaml'));
const apiSlo = 'password reset API';
const smsSlo = 'password reset SMS delivered';
const emailSlo = 'password reset email delivered';
const twilioSend = '/2010-04-01/Accounts/:sid/Messages.json';

// The notify simulator reports each delivery by webhook, in a span of its own trace that starts at
// the delivery and links to the send request (itself in the flow's trace): the SLOs' end point.
// Without a webhook target the simulator emits no delivery span, so the scenario receives them.
const receivers: Server[] = [];
async function receiveDeliveryWebhooks(notifyUrl: string): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  receivers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
  const answer = await fetch(`${notifyUrl}/_sim/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: url, sms: url }),
  });
  expect(answer.status).toBe(200);
}

/** A trace id of our own, sent as the request's traceparent: the flow's whole trace is then known. */
function newTrace() {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

/** The spans of some traces and of the traces linked into them (the notify simulator's deliveries). */
function spansOf(store: TraceStore, ...traceIds: string[]): TraceSpan[] {
  const wanted = new Set(traceIds);
  return store
    .all()
    .filter((span) => wanted.has(span.traceId) || span.links.some((link) => wanted.has(link.traceId)));
}

const delivered = (span: TraceSpan) =>
  span.name.startsWith('notify.webhook.') && span.attributes['sim.webhook.event'] === 'delivered';

interface ResetAnswer {
  status: number;
  headers: Headers;
  body: { status?: string; message?: string; error?: { code: string; message: string; requestId: string } };
}

async function requestReset(
  controlPlaneUrl: string,
  body: unknown,
  traceparent: string,
): Promise<ResetAnswer> {
  const response = await fetch(`${controlPlaneUrl}/v1/password-resets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as ResetAnswer['body'],
  };
}

interface Message {
  channel: 'email' | 'sms';
  to: string;
  text: string;
  links: string[];
  status: string;
}

async function messagesTo(notifyUrl: string, to: string, wait = '0'): Promise<Message[]> {
  const query = new URLSearchParams({ to, status: 'any', wait });
  const answer = await fetch(`${notifyUrl}/_sim/messages?${query}`);
  return ((await answer.json()) as { messages: Message[] }).messages;
}

/** The password-reset flow the request of `traceId` started, once its step has run. */
async function flowOf(store: TraceStore, traceId: string, timeoutMs = 15_000): Promise<string> {
  const spans = await store.waitFor({ traceId, names: ['flow password-reset notify'] }, { timeoutMs });
  const step = (Array.isArray(spans) ? spans : store.trace(traceId)).find((s: TraceSpan) =>
    s.name.startsWith('flow password-reset'),
  );
  return String(step!.attributes['flow.id']);
}

/**
 * Opens the control plane's pooled Postgres connections, as a deployment's are after its first
 * minutes. A fresh pool opens them on demand, and a request that needs a new one pays for the
 * connection (30–350 ms on this 2-core machine under load), which is start-up, not the route.
 */
async function warmPool(controlPlaneUrl: string): Promise<void> {
  const probes = Array.from({ length: 10 }, () => fetch(`${controlPlaneUrl}/readyz`).then((r) => r.status));
  expect(await Promise.all(probes)).toEqual(Array(10).fill(200));
}

const resultOf = (results: SloResult[], name: string) => results.find((r) => r.name === name)!;

describe('password reset', () => {
  test('an email with a working link and an SMS, once each, within their SLOs', async ({
    env,
    tenant,
    notify,
    auth,
    traces,
    admin,
  }) => {
    await receiveDeliveryWebhooks(notify.url);
    const phone = '+14155550123';
    expect((await tenant.client.patch('/v1/users/me', { phone })).status).toBe(200);
    const { traceId, traceparent } = newTrace();
    const answer = await requestReset(env.controlPlane!.url, { email: tenant.email }, traceparent);
    expect(answer.status).toBe(202);

    const flowId = await flowOf(traces.store, traceId);
    const flow = await eventually('the flow succeeded', async () => {
      const current = await admin.get(`/v1/admin/flows/${flowId}`);
      return current.body.state === 'succeeded' && current.body;
    });
    expect(flow.type).toBe('password-reset');

    // the auth provider issued one password-change ticket for this user
    const authState = (await (await fetch(`${auth.url}/_sim/state`)).json()) as {
      tickets: { kind: string; user_id: string }[];
    };
    const tickets = authState.tickets.filter((t) => t.kind === 'password-change' && t.user_id === tenant.sub);
    expect(tickets).toHaveLength(1);
    // the email carries it, and it works: the new password logs in
    const [email, ...moreEmails] = await messagesTo(notify.url, tenant.email, '10s');
    expect(moreEmails).toEqual([]);
    const link = new URL(email!.links.find((l) => l.includes('ticket='))!);
    const ticket = link.searchParams.get('ticket')!;
    const changed = await fetch(`${auth.url}/lo/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ticket, newPassword: 'Brand-new-Passw0rd' }),
      redirect: 'manual',
    });
    expect(changed.status).toBeLessThan(400);
    const login = await fetch(`${auth.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: tenant.email,
        password: 'Brand-new-Passw0rd',
        client_id: 'pw_sim_app',
        client_secret: 'pw_sim_app_secret',
      }),
    });
    expect(login.status).toBe(200);
    // the SMS is a notice, without the link
    const sms = await messagesTo(notify.url, phone, '10s');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.text).toMatch(/password reset was requested/);
    expect(sms[0]!.links).toEqual([]);

    // the whole life is one trace (plus the deliveries linked to it), and within its SLOs
    await traces.store.waitFor((store) => spansOf(store, traceId).filter(delivered).length >= 2, {
      timeoutMs: 10_000,
    });
    const names = spansOf(traces.store, traceId).map((span) => span.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /v1/password-resets',
        'flow password-reset notify',
        'POST /v3/mail/send',
        'POST /2010-04-01/Accounts/:accountSid/Messages.json',
        'notify.webhook.sendgrid-event',
        'notify.webhook.twilio-status-callback',
      ]),
    );
    const results = checkSlos(spansOf(traces.store, traceId), slos);
    console.log(formatSloTable(results));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      [apiSlo, 'pass'],
      [smsSlo, 'pass'],
      [emailSlo, 'pass'],
    ]);
    // still exactly one of each once everything has settled
    expect(await messagesTo(notify.url, tenant.email)).toHaveLength(1);
    expect(await messagesTo(notify.url, phone)).toHaveLength(1);
  });

  test('API p99 under 100 ms over known and unknown addresses; the same answer for both', async ({
    env,
    notify,
    traces,
  }) => {
    await receiveDeliveryWebhooks(notify.url);
    await warmPool(env.controlPlane!.url);
    const known: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const user = await env.newUser(`resetter${i}`);
      // the first authenticated request makes the control plane's user
      const me = await fetch(`${env.controlPlane!.url}/v1/users/me`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      expect(me.status).toBe(200);
      known.push(user.email);
    }
    const unknown = Array.from(
      { length: 90 },
      (_, i) => `nobody-${i}-${randomBytes(3).toString('hex')}@example.test`,
    );
    // one known address in ten, spread out: flows run while the API answers, as in production
    const requests = unknown.flatMap((email, i) => [
      ...(i % 9 === 0 ? [{ email: known[i / 9]!, known: true }] : []),
      { email, known: false },
    ]);
    const traced = requests.map((request) => ({ ...request, ...newTrace() }));
    const bodies = new Set<string>();
    const clientMs: number[] = [];
    for (const request of traced) {
      const started = performance.now();
      const answer = await requestReset(env.controlPlane!.url, { email: request.email }, request.traceparent);
      clientMs.push(performance.now() - started);
      expect(answer.status).toBe(202);
      bodies.add(JSON.stringify(answer.body));
    }
    // no account enumeration: one answer for everyone
    expect(bodies.size).toBe(1);

    const knownTraces = traced.filter((r) => r.known).map((r) => r.traceId);
    const unknownTraces = traced.filter((r) => !r.known).map((r) => r.traceId);
    await traces.store.waitFor(
      (store) =>
        spansOf(store, ...knownTraces).filter((s) => delivered(s) && s.name.endsWith('sendgrid-event'))
          .length >= known.length,
      { timeoutMs: 15_000 },
    );
    await traces.store.waitFor(
      (store) =>
        unknownTraces.every((traceId) =>
          store.trace(traceId).some((s) => s.name === 'POST /v1/password-resets'),
        ),
      { timeoutMs: 10_000 },
    );
    const results = checkSlos(spansOf(traces.store, ...knownTraces, ...unknownTraces), slos);
    console.log(formatSloTable(results));
    clientMs.sort((a, b) => a - b);
    console.log(`client-side: p50 ${clientMs[49]!.toFixed(1)} ms, max ${clientMs.at(-1)!.toFixed(1)} ms`);
    expect(resultOf(results, apiSlo)).toMatchObject({ status: 'pass', observed: { n: 100 } });
    expect(resultOf(results, emailSlo)).toMatchObject({ status: 'pass', observed: { n: known.length } });
    // an unknown address: no flow, no ticket, no message
    for (const traceId of unknownTraces) {
      expect(traces.store.trace(traceId).filter((s) => s.name.startsWith('flow '))).toEqual([]);
    }
    for (const email of unknown) expect(await messagesTo(notify.url, email)).toEqual([]);
    // every known address got exactly one email
    for (const email of known) expect(await messagesTo(notify.url, email)).toHaveLength(1);
  });

  test('a user without a phone gets the email alone', async ({ env, notify, traces, admin }) => {
    const user = await env.newUser('nophone');
    await fetch(`${env.controlPlane!.url}/v1/users/me`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    const { traceId, traceparent } = newTrace();
    expect((await requestReset(env.controlPlane!.url, { email: user.email }, traceparent)).status).toBe(202);
    const flowId = await flowOf(traces.store, traceId);
    const flow = await eventually('the flow succeeded', async () => {
      const current = await admin.get(`/v1/admin/flows/${flowId}`);
      return current.body.state === 'succeeded' && current.body;
    });
    expect(flow.context.smsSkipped).toBe('the user has no phone number');
    expect(await messagesTo(notify.url, user.email, '5s')).toHaveLength(1);
    expect(
      traces.store
        .trace(traceId)
        .filter((s) => s.name === 'POST /2010-04-01/Accounts/:accountSid/Messages.json'),
    ).toEqual([]);
  });

  test('bad input and too many resets: a clear 4xx, nothing started', async ({ env, notify, traces }) => {
    const url = env.controlPlane!.url;
    const bad: { body: unknown; code: string }[] = [
      { body: {}, code: 'validation_failed' },
      { body: { email: 'not-an-address' }, code: 'validation_failed' },
      { body: { email: ['a@example.test'] }, code: 'validation_failed' },
      { body: { email: 'a@example.test', newPassword: 'x' }, code: 'validation_failed' },
    ];
    const traceIds: string[] = [];
    for (const { body, code } of bad) {
      const { traceId, traceparent } = newTrace();
      traceIds.push(traceId);
      const answer = await requestReset(url, body, traceparent);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code, requestId: expect.any(String) });
    }
    // the fourth request for one address is refused, known or not, with the time to wait
    const address = `flooded-${randomBytes(3).toString('hex')}@example.test`;
    const answers = [];
    for (let i = 0; i < 4; i += 1) {
      const { traceId, traceparent } = newTrace();
      traceIds.push(traceId);
      answers.push(await requestReset(url, { email: address }, traceparent));
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
    expect(answers[3]!.body.error?.code).toBe('rate_limited');
    expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
    await traces.store.waitFor(
      (store) => traceIds.every((id) => store.trace(id).some((s) => s.name === 'POST /v1/password-resets')),
      { timeoutMs: 10_000 },
    );
    for (const traceId of traceIds) {
      expect(traces.store.trace(traceId).filter((s) => s.name.startsWith('flow '))).toEqual([]);
    }
    expect(await messagesTo(notify.url, address)).toEqual([]);
  });

  test('SendGrid throttles: the flow waits as long as SendGrid asked, then one email with a working link', async ({
    env,
    tenant,
    notify,
    traces,
    admin,
  }) => {
    const { traceId, traceparent } = newTrace();
    const [rule] = notify.faults.add({
      match: { method: 'POST', path: '/v3/mail/send', headers: { traceparent: `00-${traceId}-*` } },
      fault: { kind: 'throttle', retryAfterS: 2 },
      count: 1,
    });
    try {
      expect((await requestReset(env.controlPlane!.url, { email: tenant.email }, traceparent)).status).toBe(
        202,
      );
      const flowId = await flowOf(traces.store, traceId);
      const flow = await eventually('the flow succeeded', async () => {
        const current = await admin.get(`/v1/admin/flows/${flowId}`);
        return current.body.state === 'succeeded' && current.body;
      });
      expect(flow.context.throttleWaits).toBe(1);
      // SendGrid's X-RateLimit-Reset (whole epoch seconds, 2 s ahead) decided the wait
      const isStep = (span: TraceSpan) => span.name === 'flow password-reset notify';
      await traces.store.waitFor((store) => store.trace(traceId).filter(isStep).length >= 2);
      const steps = traces.store
        .trace(traceId)
        .filter(isStep)
        .sort((a, b) => a.startMs - b.startMs);
      expect(steps).toHaveLength(2);
      expect(steps[1]!.startMs - steps[0]!.endMs).toBeGreaterThan(900);
      const emails = await messagesTo(notify.url, tenant.email, '5s');
      expect(emails).toHaveLength(1);
      expect(emails[0]!.links.some((link) => link.includes('ticket='))).toBe(true);
    } finally {
      notify.faults.remove(rule!.id);
    }
  });

  test('Twilio throttles twice: the flow backs off, the SMS arrives once and within its SLO', async ({
    env,
    tenant,
    notify,
    traces,
    admin,
  }) => {
    await receiveDeliveryWebhooks(notify.url);
    const phone = '+14155550124';
    expect((await tenant.client.patch('/v1/users/me', { phone })).status).toBe(200);
    const { traceId, traceparent } = newTrace();
    // only this request's sends carry its trace id, so the rule throttles nothing else
    const [rule] = notify.faults.add({
      match: { method: 'POST', path: twilioSend, headers: { traceparent: `00-${traceId}-*` } },
      fault: { kind: 'throttle', retryAfterS: 1 },
      count: 2,
    });
    try {
      expect((await requestReset(env.controlPlane!.url, { email: tenant.email }, traceparent)).status).toBe(
        202,
      );
      const flowId = await flowOf(traces.store, traceId);
      const flow = await eventually('the flow succeeded', async () => {
        const current = await admin.get(`/v1/admin/flows/${flowId}`);
        return current.body.state === 'succeeded' && current.body;
      });
      expect(flow.context.throttleWaits).toBe(2);
      const throttled = notify.journal
        .entries(0)
        .filter((entry) => entry.rule === rule!.id && entry.fault?.kind === 'throttle');
      expect(throttled).toHaveLength(2);
      await traces.store.waitFor((store) => spansOf(store, traceId).filter(delivered).length >= 2, {
        timeoutMs: 10_000,
      });
      const results = checkSlos(spansOf(traces.store, traceId), slos);
      console.log(formatSloTable(results));
      expect(resultOf(results, smsSlo).status).toBe('pass');
      expect(resultOf(results, emailSlo).status).toBe('pass');
      // exactly one SMS and one email despite the retries
      expect(await messagesTo(notify.url, phone)).toHaveLength(1);
      expect(await messagesTo(notify.url, tenant.email)).toHaveLength(1);
    } finally {
      notify.faults.remove(rule!.id);
    }
  });

  // Last, and in an environment of its own: its traces must not reach the run's SLO table (they
  // fail it on purpose), and an environment sends this process's simulator spans to the collector
  // started last (harness/env/simulator-tracing.ts), so it must not overlap the file's others.
  test('Twilio throttles past the SLO: the SMS arrives late, once, and the SLO table says FAIL', async ({
    postgres,
  }) => {
    await using drill = await startEnvironment({
      simulators: ['auth', 'notify'],
      postgres: { server: postgres, template: inject('postgres').templateDatabase },
    });
    await receiveDeliveryWebhooks(drill.notify!.url);
    await warmPool(drill.controlPlane!.url);
    const user = await drill.newUser('throttled');
    const client = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
    const phone = '+14155550125';
    const patched = await fetch(`${drill.controlPlane!.url}/v1/users/me`, {
      method: 'PATCH',
      headers: client,
      body: JSON.stringify({ phone }),
    });
    expect(patched.status).toBe(200);
    const { traceId, traceparent } = newTrace();
    drill.notify!.faults.add({
      match: { method: 'POST', path: twilioSend },
      fault: { kind: 'throttle', retryAfterS: 5 },
      window: { forMs: 31_000 },
    });
    expect((await requestReset(drill.controlPlane!.url, { email: user.email }, traceparent)).status).toBe(
      202,
    );
    const sms = await messagesTo(drill.notify!.url, phone, '50s');
    expect(sms).toHaveLength(1);
    await drill.traces!.store.waitFor((store) => spansOf(store, traceId).filter(delivered).length >= 2, {
      timeoutMs: 10_000,
    });
    const results = checkSlos(spansOf(drill.traces!.store, traceId), slos);
    const table = formatSloTable(results);
    console.log(table);
    expect(resultOf(results, smsSlo)).toMatchObject({ status: 'fail', pass: false });
    expect(resultOf(results, smsSlo).observed.max).toBeGreaterThan(30_000);
    expect(resultOf(results, emailSlo).status).toBe('pass');
    expect(table).toMatch(/password reset SMS delivered \(password-reset\).*FAIL: max was/);
    expect(await messagesTo(drill.notify!.url, phone)).toHaveLength(1);
    for (const server of receivers) server.close();
  }, 90_000);
});
