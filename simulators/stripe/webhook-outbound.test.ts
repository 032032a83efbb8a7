// Webhooks go only to this machine: endpoints off loopback are refused with Stripe's 400
// `url_invalid` unless `allowExternalWebhooks`, and the sender checks again before each POST.
import { describe, expect, it } from 'vitest';
import { startReceiver, startStripe } from './sdk-testing.ts';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: {
    authorization: 'Bearer sk_test_outbound',
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: new URLSearchParams(fields).toString(),
});

describe('webhook endpoints off this machine', () => {
  it('are refused at creation and update with invalid_request_error url_invalid', async () => {
    await using started = await startStripe();
    const { sim } = started;
    for (const url of ['https://example.com/hook', 'http://10.0.0.7/hook', 'http://192.168.1.2:8080/']) {
      const answer = await fetch(`${sim.url}/v1/webhook_endpoints`, form({ url, 'enabled_events[]': '*' }));
      expect(answer.status, url).toBe(400);
      const { error } = (await answer.json()) as { error: Record<string, string> };
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'url_invalid', param: 'url' });
      expect(error.message).toMatch(/allowExternalWebhooks/);
    }
    const created = await fetch(
      `${sim.url}/v1/webhook_endpoints`,
      form({ url: 'http://127.0.0.1:9/hook', 'enabled_events[]': '*' }),
    );
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const updated = await fetch(`${sim.url}/v1/webhook_endpoints/${id}`, form({ url: 'http://172.20.0.1/' }));
    expect(updated.status).toBe(400);
    expect(sim.state.stripe.webhookEndpoints.retrieve(id).url).toBe('http://127.0.0.1:9/hook');
  });

  it('are accepted with allowExternalWebhooks: true', async () => {
    await using started = await startStripe({ allowExternalWebhooks: true });
    const answer = await fetch(
      `${started.sim.url}/v1/webhook_endpoints`,
      form({ url: 'https://example.com/hook', 'enabled_events[]': 'customer.created' }),
    );
    expect(answer.status).toBe(200);
  });

  it('the sender refuses to POST to one that got in by another way', async () => {
    await using receiver = await startReceiver();
    await using started = await startStripe({
      webhookRetry: { initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, maxAttempts: 1, jitter: 0 },
    });
    const { sim, stripe } = started;
    // the core takes any URL; only the HTTP API checks it
    sim.state.stripe.webhookEndpoints.create({ url: 'http://10.255.255.1/hook', enabled_events: ['*'] });
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    await stripe.customers.create({ email: 'ada@example.com' });
    await expect
      .poll(() => sim.state.attempts.list().map((a) => [a.url, a.ok, a.error?.slice(0, 10) ?? null]))
      .toEqual(
        expect.arrayContaining([
          ['http://10.255.255.1/hook', false, '10.255.255'],
          [receiver.url, true, null],
        ]),
      );
  });
});
