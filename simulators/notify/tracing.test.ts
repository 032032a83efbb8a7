// Deliveries run after the request that caused them has been answered: each webhook runs in a
// span of its own trace, linked to that request's span, and carries its own traceparent.
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNotify, webhookReceiver } from './testing.ts';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => {
  provider.register({ propagator: new W3CTraceContextPropagator() });
});
afterAll(() => provider.shutdown());

it('webhooks run in spans linked to the request (or SMTP transaction) that caused them', async () => {
  await using hooks = await webhookReceiver();
  const sim = await startNotify({ webhooks: { email: hooks.url } });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const sent = await fetch(`${sim.url}/v3/mail/send`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer SG.key.secret',
      'content-type': 'application/json',
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    },
    body: JSON.stringify({
      personalizations: [{ to: [{ email: 'a@example.test' }] }],
      from: { email: 'app@example.test' },
      subject: 's',
      content: [{ type: 'text/plain', value: 't' }],
    }),
  });
  expect(sent.status).toBe(202);
  await nodemailer
    .createTransport({ host: '127.0.0.1', port: sim.smtpPort, secure: false })
    .sendMail({ from: 'app@example.test', to: 'b@example.test', subject: 's', text: 't' });
  await hooks.waitFor(4);
  await sim.stop();

  const spans = exporter.getFinishedSpans();
  const request = spans.find((span) => span.name === 'POST /v3/mail/send')!;
  expect(request.spanContext().traceId).toBe(traceId);
  const webhooks = spans.filter((span) => span.name === 'notify.webhook.sendgrid-event');
  expect(webhooks).toHaveLength(4);
  const fromRequest = webhooks.filter(
    (span) => span.links[0]?.context.spanId === request.spanContext().spanId,
  );
  expect(fromRequest.map((span) => span.attributes['sim.webhook.event']).sort()).toEqual([
    'delivered',
    'processed',
  ]);
  for (const span of fromRequest) expect(span.spanContext().traceId).not.toBe(traceId);

  const smtp = spans.find((span) => span.name === 'notify.smtp.receive')!;
  const fromSmtp = webhooks.filter((span) => span.links[0]?.context.spanId === smtp.spanContext().spanId);
  expect(fromSmtp).toHaveLength(2);
  const carried = hooks.received.map((r) => r.headers.traceparent);
  for (const span of webhooks) {
    expect(carried).toContain(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
  }
});
