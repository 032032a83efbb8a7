// The Stripe simulator's HTTP surface: authentication, request ids, API versions, form bodies,
// Stripe-shaped answers to the kit's faults, the admin API's clock and state.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { checkApiKey, redactKey } from './routes/auth.ts';
import { sdkFor, startStripe, testKey } from './sdk-testing.ts';

const auth = { authorization: `Bearer ${testKey}` };

async function call(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('authentication', () => {
  it('takes test secret and restricted keys, as Bearer or as the Basic user name', () => {
    expect(checkApiKey(`Bearer ${testKey}`)).toEqual({ key: testKey });
    expect(checkApiKey('Bearer rk_test_abc')).toEqual({ key: 'rk_test_abc' });
    const basic = `Basic ${Buffer.from(`${testKey}:`).toString('base64')}`;
    expect(checkApiKey(basic)).toEqual({ key: testKey });
    expect(checkApiKey(undefined).problem).toMatch(/^You did not provide an API key/);
    expect(checkApiKey('Bearer pk_test_abc').problem).toMatch(/publishable API key/);
    expect(checkApiKey('Bearer sk_live_abcdefgh1234').problem).toBe(
      'Invalid API Key provided: sk_live_********1234 (this simulator takes test-mode keys only: sk_test_…)',
    );
    expect(checkApiKey('Bearer nonsense').problem).toBe(`Invalid API Key provided: ${redactKey('nonsense')}`);
    expect(redactKey('nonsense')).toBe('****ense');
  });

  it("answers Stripe's 401 without a good key, which the SDK raises as StripeAuthenticationError", async () => {
    await using started = await startStripe();
    const { sim } = started;
    const none = await call(`${sim.url}/v1/customers`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="Stripe"');
    expect(none.headers.get('request-id')).toMatch(/^req_/);
    expect(none.body.error).toMatchObject({ type: 'invalid_request_error' });
    // unknown paths ask for a key first, as Stripe's do
    expect((await call(`${sim.url}/v1/nothing-here`)).status).toBe(401);

    const wrong = new Stripe('sk_test_wrong key', { host: '127.0.0.1', port: sim.port, protocol: 'http' });
    const error = await wrong.customers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((error as Stripe.errors.StripeError).message).toMatch(/^Invalid API Key provided: sk_test_\*+/);
    // the key itself never comes back
    expect((error as Stripe.errors.StripeError).message).not.toContain('wrong key');
  });
});

describe('requests and answers', () => {
  it('gives every answer a Request-Id and echoes Stripe-Version; refuses a malformed version', async () => {
    await using started = await startStripe();
    const { sim } = started;
    const ok = await call(`${sim.url}/v1/customers`, {
      headers: { ...auth, 'stripe-version': '2025-01-27.acacia' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('stripe-version')).toBe('2025-01-27.acacia');
    const unversioned = await call(`${sim.url}/v1/customers`, { headers: auth });
    expect(unversioned.headers.get('stripe-version')).toBe('2026-10-28.endive');
    const ids = [ok, unversioned].map((answer) => answer.headers.get('request-id'));
    expect(new Set(ids).size).toBe(2);

    const bad = await call(`${sim.url}/v1/customers`, { headers: { ...auth, 'stripe-version': 'latest' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: 'Invalid Stripe API version: latest',
    });

    const unknown = await call(`${sim.url}/v1/nothing-here`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: /^Unrecognized request URL/,
    });
    expect(unknown.headers.get('request-id')).toMatch(/^req_/);
  });

  it('reads bracketed form bodies and query strings, and refuses JSON bodies', async () => {
    await using started = await startStripe();
    const { sim } = started;
    const form = { ...auth, 'content-type': 'application/x-www-form-urlencoded' };
    const body = 'email=ada%40example.com&metadata[plan]=pro&preferred_locales[]=fr&preferred_locales[]=en';
    const created = await call(`${sim.url}/v1/customers`, { method: 'POST', headers: form, body });
    expect(created.body).toMatchObject({
      email: 'ada@example.com',
      metadata: { plan: 'pro' },
      preferred_locales: ['fr', 'en'],
    });
    const listed = await call(`${sim.url}/v1/customers?limit=1&expand[]=data.test_clock`, { headers: auth });
    expect(listed.body.data).toHaveLength(1);

    const json = await call(`${sim.url}/v1/customers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"email":"ada@example.com"}',
    });
    expect(json.status).toBe(400);
    expect(json.body.error.message).toMatch(/form-encoded/);
  });
});

describe("the kit's faults in Stripe's shape", () => {
  const noRetries = { maxNetworkRetries: 0 };

  it('an error rule gives the SDK the error class Stripe would', async () => {
    await using started = await startStripe({ sdk: noRetries });
    const { sim, stripe } = started;
    const cases: [number, unknown, Record<string, unknown>][] = [
      [500, Stripe.errors.StripeAPIError, { type: 'StripeAPIError', statusCode: 500 }],
      [402, Stripe.errors.StripeCardError, { code: 'card_declined', decline_code: 'generic_decline' }],
      [429, Stripe.errors.StripeRateLimitError, { code: 'lock_timeout' }],
      [400, Stripe.errors.StripeInvalidRequestError, { statusCode: 400 }],
    ];
    for (const [status, errorClass, fields] of cases) {
      sim.faults.add({
        id: `error-${status}`,
        match: { path: '/v1/customers' },
        fault: { kind: 'error', status },
        count: 1,
      });
      const error = await stripe.customers.create({}).catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(errorClass);
      expect(error).toMatchObject(fields);
    }
    const lockTimeout = sim.faults.add({
      match: { path: '/v1/customers' },
      fault: { kind: 'error', status: 429 },
      count: 1,
    });
    expect(lockTimeout).toHaveLength(1);
    const raw = await call(`${sim.url}/v1/customers`, { headers: auth });
    expect(raw.headers.get('stripe-should-retry')).toBe('true');
  });

  it('a throttle rule is a 429 rate_limit: StripeRateLimitError with Stripe-Rate-Limited-Reason', async () => {
    await using started = await startStripe({
      sdk: noRetries,
      faults: [
        {
          id: 'slow-down',
          match: { method: 'POST', path: '/v1/customers' },
          fault: { kind: 'throttle', retryAfterS: 2 },
        },
      ],
    });
    const { sim, stripe } = started;
    const error = await stripe.customers.create({ email: 'a@example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: 'rate_limit', type: 'StripeRateLimitError' });
    const headers = (error as Stripe.errors.StripeError).headers as Record<string, string>;
    expect(headers['stripe-rate-limited-reason']).toBe('global-rate');
    expect(headers['retry-after']).toBe('2');
    expect(headers['request-id']).toMatch(/^req_/);
    // reads are not throttled by this rule, and nothing was created
    expect((await stripe.customers.list()).data).toHaveLength(0);
    expect(sim.journal.entries().map((entry) => entry.rule)).toEqual(['slow-down']);
  });

  it('an outage is a 503 api_error until its window ends; the SDK retries it by default', async () => {
    await using started = await startStripe({ clock: { frozen: true, start: '2031-01-01T00:00:00Z' } });
    const { sim } = started;
    sim.faults.add({ match: { path: '/v1/**' }, fault: { kind: 'outage', forMs: 60_000 } });
    const down = await call(`${sim.url}/v1/customers`, { headers: auth });
    expect(down.status).toBe(503);
    expect(down.body.error).toMatchObject({ type: 'api_error' });
    expect(down.headers.get('retry-after')).toBe('60');
    await sim.clock.advance(60_000);
    const stripe = sdkFor(sim, noRetries);
    expect((await stripe.customers.list()).object).toBe('list');
  });
});

describe('the clock', () => {
  it('renews subscriptions without a test clock when /_sim/clock moves, and shows it all in /_sim/state', async () => {
    await using started = await startStripe({ clock: { frozen: true, start: '2031-01-01T00:00:00Z' } });
    const { sim, stripe } = started;
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = await stripe.prices.create({
      currency: 'usd',
      unit_amount: 900,
      recurring: { interval: 'month' },
      product_data: { name: 'Basic' },
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(sub.status).toBe('active');
    const advanced = await call(`${sim.url}/_sim/clock`, {
      method: 'POST',
      body: JSON.stringify({ setTo: '2031-02-01T12:00:00Z' }),
    });
    expect(advanced.status).toBe(200);
    const invoices = await stripe.invoices.list({ customer: customer.id });
    expect(invoices.data.map((invoice) => [invoice.billing_reason, invoice.status])).toEqual([
      ['subscription_cycle', 'paid'],
      ['subscription_create', 'paid'],
    ]);
    const state = (await call(`${sim.url}/_sim/state`)).body;
    expect(state.subscriptions).toHaveLength(1);
    expect(state.invoices).toHaveLength(2);
    expect(state.idempotencyKeys).toBe(3);
    expect(state.webhookAttempts).toEqual([]);

    await call(`${sim.url}/_sim/reset`, { method: 'POST' });
    expect((await stripe.customers.list()).data).toHaveLength(0);
  });
});
