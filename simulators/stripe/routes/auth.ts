// Stripe's checks before any /v1 route: a test secret key (Bearer, or Basic with the key as the user
// name, as curl -u sends it) and a well-formed Stripe-Version, which every answer then echoes.
import type { Request, RequestHandler } from 'express';
import { defaultApiVersion } from '../state.ts';

export interface ApiKeyCheck {
  /** The key, when it is one the simulator takes. */
  key?: string;
  /** Stripe's message for a missing or refused key. */
  problem?: string;
}

const missingKey =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Stripe's redaction of a key in messages: its prefix, stars, and its last four characters. */
export function redactKey(key: string): string {
  const prefix = /^[a-z]{2}_(test|live)_/.exec(key)?.[0] ?? '';
  const tail = key.length - prefix.length > 4 ? key.slice(-4) : '';
  return `${prefix}${'*'.repeat(Math.max(4, key.length - prefix.length - tail.length))}${tail}`;
}

/** The API key of a request, or Stripe's reason to refuse it. Only test-mode secret and restricted keys pass. */
export function checkApiKey(header: string | undefined): ApiKeyCheck {
  if (!header) return { problem: missingKey };
  const [, scheme = '', credentials = ''] = /^(\S+)\s*(.*)$/.exec(header.trim()) ?? [];
  let key = credentials;
  if (scheme.toLowerCase() === 'basic') {
    key = Buffer.from(credentials, 'base64').toString('utf8').split(':')[0] ?? '';
  } else if (scheme.toLowerCase() !== 'bearer') {
    return { problem: missingKey };
  }
  if (key === '') return { problem: missingKey };
  if (/^pk_(test|live)_/.test(key)) {
    return {
      problem: 'This API call cannot be made with a publishable API key. Please use a secret API key.',
    };
  }
  if (/^(sk|rk)_live_/.test(key)) {
    return {
      problem: `Invalid API Key provided: ${redactKey(key)} (this simulator takes test-mode keys only: sk_test_…)`,
    };
  }
  if (!/^(sk|rk)_test_[0-9A-Za-z_]+$/.test(key))
    return { problem: `Invalid API Key provided: ${redactKey(key)}` };
  return { key };
}

const keys = new WeakMap<Request, string>();

/** The API key a request was authenticated with (the scope of its idempotency keys). */
export const apiKeyOf = (req: Request): string => keys.get(req) ?? '';

const versionPattern = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

/** Authenticates every /v1 request and settles its API version, both as Stripe does. */
export function authenticate(): RequestHandler {
  return (req, res, next) => {
    const requested = req.get('stripe-version');
    res.setHeader(
      'Stripe-Version',
      requested && versionPattern.test(requested) ? requested : defaultApiVersion,
    );
    const check = checkApiKey(req.get('authorization'));
    if (check.problem !== undefined) {
      res.status(401).set('WWW-Authenticate', 'Basic realm="Stripe"');
      // Stripe's 401 is an invalid_request_error; the SDK makes it a StripeAuthenticationError by its status
      res.json({ error: { type: 'invalid_request_error', message: check.problem } });
      return;
    }
    keys.set(req, check.key as string);
    if (requested !== undefined && !versionPattern.test(requested)) {
      res.status(400).json({
        error: {
          type: 'invalid_request_error',
          message: `Invalid Stripe API version: ${requested}`,
          param: 'Stripe-Version',
        },
      });
      return;
    }
    next();
  };
}
