// The route table and its checks: which hosts go where, what a mistake in PLANEWRIGHT_INTERCEPT
// says, and what interceptArgs gives a child process.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { targetUrl } from './forward.ts';
import {
  interceptArgs,
  interceptConfigFromEnv,
  preloadPath,
  resolveInterceptConfig,
  routeFor,
} from './index.ts';

const sims = {
  stripe: 'http://127.0.0.1:4010',
  salesforce: 'http://127.0.0.1:4011',
  auth: 'http://127.0.0.1:4012',
  notify: 'http://127.0.0.1:4013',
};

const where = (targets: object, host: string) => {
  const route = routeFor(resolveInterceptConfig(targets).routes, host);
  return route?.target ? `${route.simulator} ${route.target.origin}` : route?.simulator;
};

describe('routes', () => {
  it('sends each vendor host to its simulator, wildcards at any depth but not the bare domain', () => {
    expect(where(sims, 'api.stripe.com')).toBe('stripe http://127.0.0.1:4010');
    expect(where(sims, 'files.stripe.com')).toBe('stripe http://127.0.0.1:4010');
    expect(where(sims, 'connect.stripe.com')).toBe('stripe http://127.0.0.1:4010');
    expect(where(sims, 'login.salesforce.com')).toBe('salesforce http://127.0.0.1:4011');
    expect(where(sims, 'test.salesforce.com')).toBe('salesforce http://127.0.0.1:4011');
    expect(where(sims, 'acme.my.salesforce.com')).toBe('salesforce http://127.0.0.1:4011');
    expect(where(sims, 'acme--dev.sandbox.my.salesforce.com')).toBe('salesforce http://127.0.0.1:4011');
    expect(where(sims, 'planewright.eu.auth0.com')).toBe('auth http://127.0.0.1:4012');
    expect(where(sims, 'api.sendgrid.com')).toBe('notify http://127.0.0.1:4013');
    expect(where(sims, 'api.twilio.com')).toBe('notify http://127.0.0.1:4013');
    expect(where(sims, 'messaging.twilio.com')).toBe('notify http://127.0.0.1:4013');
    expect(where(sims, 'API.Stripe.com.')).toBe('stripe http://127.0.0.1:4010');

    for (const host of [
      'stripe.com',
      'notapi.stripe.com',
      'my.salesforce.com',
      'auth0.com',
      '127.0.0.1',
      'localhost',
    ]) {
      expect(where(sims, host), host).toBeUndefined();
    }
  });

  it('intercepts only the simulators given a URL', () => {
    expect(where({ stripe: sims.stripe }, 'api.stripe.com')).toBe('stripe http://127.0.0.1:4010');
    expect(where({ stripe: sims.stripe }, 'api.twilio.com')).toBeUndefined();
    expect(resolveInterceptConfig({}).routes).toEqual([]);
  });

  it('hosts adds a custom domain, overrides a default, or lets one pass through', () => {
    const targets = {
      ...sims,
      hosts: {
        'login.example.com': 'auth',
        'api.twilio.com': 'http://127.0.0.1:5000',
        'connect.stripe.com': 'passthrough',
        'mail.example.com': 'http://127.0.0.1:5001/prefix',
      },
    };
    expect(where(targets, 'login.example.com')).toBe('auth http://127.0.0.1:4012');
    expect(where(targets, 'api.twilio.com')).toBe('http://127.0.0.1:5000 http://127.0.0.1:5000');
    expect(where(targets, 'video.twilio.com')).toBe('notify http://127.0.0.1:4013');
    expect(where(targets, 'connect.stripe.com')).toBe('passthrough');
    expect(where(targets, 'api.stripe.com')).toBe('stripe http://127.0.0.1:4010');
    // the most specific pattern wins
    expect(where({ ...sims, hosts: { '*.eu.auth0.com': 'passthrough' } }, 'a.eu.auth0.com')).toBe(
      'passthrough',
    );
    expect(where({ ...sims, hosts: { '*.eu.auth0.com': 'passthrough' } }, 'a.us.auth0.com')).toBe(
      'auth http://127.0.0.1:4012',
    );
  });

  it('keeps the path and query, under the target base path', () => {
    const source = new URL('https://api.stripe.com/v1/customers?limit=3&email=a%40b.c');
    expect(targetUrl(source, new URL('http://127.0.0.1:4010')).href).toBe(
      'http://127.0.0.1:4010/v1/customers?limit=3&email=a%40b.c',
    );
    expect(targetUrl(source, new URL('http://127.0.0.1:4010/stripe/')).href).toBe(
      'http://127.0.0.1:4010/stripe/v1/customers?limit=3&email=a%40b.c',
    );
  });
});

describe('configuration errors', () => {
  const message = (targets: unknown) => {
    try {
      resolveInterceptConfig(targets);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected a configuration error');
  };

  it('names the field and the fix', () => {
    expect(message({ stripe: 'api.stripe.com' })).toMatch(
      /^PW_INTERCEPT_BAD_CONFIG: PLANEWRIGHT_INTERCEPT\.stripe: an http\(s\) URL such as http:\/\/127\.0\.0\.1:4010; fix PLANEWRIGHT_INTERCEPT/,
    );
    expect(message({ strip: sims.stripe })).toMatch(/PLANEWRIGHT_INTERCEPT: Unrecognized key: "strip"/);
    expect(message({ stripe: 'ftp://127.0.0.1:21' })).toMatch(
      /PLANEWRIGHT_INTERCEPT\.stripe: an http\(s\) URL/,
    );
    expect(message({ stripe: 'http://127.0.0.1:1/?x=1' })).toMatch(/without \?query/);
    expect(message({ hosts: { 'Bad Host': 'stripe' } })).toMatch(/PLANEWRIGHT_INTERCEPT\.hosts/);
    expect(message({ hosts: { 'login.example.com': 'auth' } })).toMatch(
      /PLANEWRIGHT_INTERCEPT\.hosts\.login\.example\.com: names auth, which has no URL; set PLANEWRIGHT_INTERCEPT\.auth/,
    );
    expect(message({ hosts: { 'a.example.com': 'salesforse' } })).toMatch(
      /PLANEWRIGHT_INTERCEPT\.hosts\.a\.example\.com/,
    );
    expect(message({ maxBodyBytes: 0 })).toMatch(/PLANEWRIGHT_INTERCEPT\.maxBodyBytes/);
  });

  it('refuses a target that is itself an intercepted host: no request loops', () => {
    expect(message({ stripe: 'https://api.stripe.com' })).toMatch(
      /stripe's URL https:\/\/api\.stripe\.com is itself an intercepted host \(api\.stripe\.com\)/,
    );
  });

  it('reads PLANEWRIGHT_INTERCEPT: unset or empty is off, bad JSON says so', () => {
    expect(interceptConfigFromEnv({})).toBeUndefined();
    expect(interceptConfigFromEnv({ PLANEWRIGHT_INTERCEPT: ' ' })).toBeUndefined();
    expect(interceptConfigFromEnv({ PLANEWRIGHT_INTERCEPT: JSON.stringify(sims) })?.routes).toHaveLength(11);
    expect(() => interceptConfigFromEnv({ PLANEWRIGHT_INTERCEPT: '{stripe:' })).toThrow(
      /PW_INTERCEPT_BAD_CONFIG: PLANEWRIGHT_INTERCEPT is not JSON/,
    );
  });
});

describe('interceptArgs', () => {
  it('gives the --import flag and the variables for a child process', () => {
    const args = interceptArgs(
      { stripe: sims.stripe, notify: sims.notify },
      { logLevel: 'debug', stats: true },
    );
    expect(args).toEqual({
      execArgv: ['--import', preloadPath],
      env: {
        PLANEWRIGHT_INTERCEPT: JSON.stringify({ stripe: sims.stripe, notify: sims.notify }),
        PLANEWRIGHT_INTERCEPT_LOG_LEVEL: 'debug',
        PLANEWRIGHT_INTERCEPT_STATS: '1',
      },
    });
    expect(existsSync(preloadPath)).toBe(true);
    expect(interceptArgs({ auth: sims.auth }).env).toEqual({
      PLANEWRIGHT_INTERCEPT: '{"auth":"http://127.0.0.1:4012"}',
    });
  });

  it('checks the targets in the parent, before anything starts', () => {
    expect(() => interceptArgs({ stripe: 'localhost:4010' })).toThrow(
      /PW_INTERCEPT_BAD_CONFIG: targets\.stripe/,
    );
  });
});
