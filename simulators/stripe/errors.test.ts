import { describe, expect, it } from 'vitest';
import { declineError, declines } from './cards.ts';
import {
  apiError,
  idempotencyKeyInUse,
  idempotencyMismatch,
  invalidRequest,
  missingParam,
  noSuch,
  StripeError,
} from './errors.ts';

describe('StripeError', () => {
  it('answers Stripe’s error object with the right status', () => {
    expect(missingParam('amount').toResponse()).toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'parameter_missing',
          doc_url: 'https://stripe.com/docs/error-codes/parameter-missing',
          message: 'Missing required param: amount.',
          param: 'amount',
        },
      },
    });
    expect(noSuch('customer', 'cus_1').statusCode).toBe(404);
    expect(noSuch('customer', 'cus_1', 'customer').statusCode).toBe(400);
    expect(declineError(declines.insufficientFunds).toResponse()).toEqual({
      status: 402,
      body: {
        error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'insufficient_funds',
          doc_url: 'https://stripe.com/docs/error-codes/card-declined',
          message: 'Your card has insufficient funds.',
        },
      },
    });
    expect(idempotencyMismatch('k').toResponse()).toMatchObject({
      status: 400,
      body: { error: { type: 'idempotency_error' } },
    });
    expect(idempotencyKeyInUse('k').toResponse()).toMatchObject({
      status: 409,
      body: { error: { code: 'idempotency_key_in_use' } },
    });
    expect(apiError('boom').toResponse()).toMatchObject({
      status: 500,
      body: { error: { type: 'api_error' } },
    });
  });

  it('says whether Stripe would keep the result for an idempotency key', () => {
    expect(invalidRequest('bad').saveIdempotent).toBe(false);
    expect(noSuch('customer', 'cus_1').saveIdempotent).toBe(false);
    expect(declineError(declines.generic).saveIdempotent).toBe(true);
    expect(apiError('boom').saveIdempotent).toBe(true);
  });

  it('is an Error with code and type, and its response is a copy', () => {
    const error = declineError(declines.expired);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(StripeError);
    expect([error.code, error.type, error.message]).toEqual([
      'expired_card',
      'card_error',
      'Your card has expired.',
    ]);
    error.toResponse().body.error.message = 'changed';
    expect(error.body.message).toBe('Your card has expired.');
  });
});
