import { describe, expect, it } from 'vitest';
import { attachOutcome, chargeOutcome, luhnValid, profileOf, testCardNumber } from './cards.ts';
import { StripeError } from './errors.ts';
import { at } from './test-support.ts';

const future = { exp_month: 12, exp_year: 2040 };
const now = at('2031-06-01T00:00:00Z');

describe('test cards', () => {
  it('maps tokens and pm_card names to Stripe’s test numbers', () => {
    expect(testCardNumber('tok_visa')).toBe('4242424242424242');
    expect(testCardNumber('pm_card_visa')).toBe('4242424242424242');
    expect(testCardNumber('tok_mastercard')).toBe('5555555555554444');
    expect(testCardNumber('pm_card_visa_chargeDeclinedInsufficientFunds')).toBe('4000000000009995');
    expect(testCardNumber('tok_chargeDeclinedExpiredCard')).toBe('4000000000000069');
    expect(testCardNumber('pm_card_chargeCustomerFail')).toBe('4000000000000341');
    expect(testCardNumber('tok_nonsense')).toBeUndefined();
    expect(testCardNumber('pm_1234')).toBeUndefined();
  });

  it('all test numbers pass Luhn; 4242424242424241 does not', () => {
    for (const name of ['visa', 'amex', 'discover', 'diners', 'jcb', 'unionpay', 'mastercard_prepaid']) {
      expect(luhnValid(testCardNumber(`tok_${name}`) as string), name).toBe(true);
    }
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(() => profileOf('4242424242424241')).toThrow(StripeError);
    expect(
      (() => {
        try {
          profileOf('4242 4242 4242 4241');
        } catch (error) {
          return (error as StripeError).body;
        }
      })(),
    ).toMatchObject({ type: 'card_error', code: 'incorrect_number' });
  });

  it('gives brand and funding', () => {
    expect(profileOf('4242424242424242')).toMatchObject({ brand: 'visa', funding: 'credit' });
    expect(profileOf('4000056655665556')).toMatchObject({ brand: 'visa', funding: 'debit' });
    expect(profileOf('378282246310005').brand).toBe('amex');
    expect(profileOf('5555 5555 5555 4444').brand).toBe('mastercard');
  });

  it('decides charges as Stripe’s test cards do', () => {
    expect(chargeOutcome(profileOf('4242424242424242'), future, now)).toBeUndefined();
    expect(chargeOutcome(profileOf('4000000000000002'), future, now)).toMatchObject({
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
    });
    expect(chargeOutcome(profileOf('4000000000009995'), future, now)).toMatchObject({
      code: 'card_declined',
      decline_code: 'insufficient_funds',
    });
    expect(chargeOutcome(profileOf('4000000000000069'), future, now)).toEqual({
      code: 'expired_card',
      message: 'Your card has expired.',
    });
    expect(chargeOutcome(profileOf('4000000000000341'), future, now)?.code).toBe('card_declined');
    // expiry is judged at the time of the charge
    expect(chargeOutcome(profileOf('4242424242424242'), { exp_month: 5, exp_year: 2031 }, now)?.code).toBe(
      'expired_card',
    );
  });

  it('lets 0341 attach but not the decline cards', () => {
    expect(attachOutcome(profileOf('4000000000000341'), future, now)).toBeUndefined();
    expect(attachOutcome(profileOf('4000000000000002'), future, now)?.decline_code).toBe('generic_decline');
    expect(attachOutcome(profileOf('4242424242424242'), { exp_month: 1, exp_year: 2031 }, now)?.code).toBe(
      'expired_card',
    );
  });
});
