import { cardError, type StripeError } from './errors.ts';
import { isCardExpired } from './time.ts';

/** Why a charge or an attach fails, as Stripe reports it. */
export interface Decline {
  code: string;
  decline_code?: string;
  message: string;
}

/** What a test card number does (from Stripe's testing documentation). */
export interface CardProfile {
  number: string;
  brand: string;
  funding: 'credit' | 'debit' | 'prepaid';
  /** Fails every charge, and the verification on attach too. */
  decline?: Decline;
  /** Attaches fine, then fails every charge (4000000000000341). */
  chargeDecline?: Decline;
}

const declined = (decline_code: string, message = 'Your card was declined.'): Decline => ({
  code: 'card_declined',
  decline_code,
  message,
});

export const declines = {
  generic: declined('generic_decline'),
  insufficientFunds: declined('insufficient_funds', 'Your card has insufficient funds.'),
  lostCard: declined('lost_card'),
  stolenCard: declined('stolen_card'),
  velocity: declined(
    'card_velocity_exceeded',
    'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.',
  ),
  expired: { code: 'expired_card', message: 'Your card has expired.' },
  incorrectCvc: { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  processing: {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
} satisfies Record<string, Decline>;

const special: Record<string, Omit<CardProfile, 'number' | 'brand' | 'funding'>> = {
  '4000000000000002': { decline: declines.generic },
  '4000000000009995': { decline: declines.insufficientFunds },
  '4000000000009987': { decline: declines.lostCard },
  '4000000000009979': { decline: declines.stolenCard },
  '4000000000006975': { decline: declines.velocity },
  '4000000000000069': { decline: declines.expired },
  '4000000000000127': { decline: declines.incorrectCvc },
  '4000000000000119': { decline: declines.processing },
  '4000000000000341': { chargeDecline: declines.generic },
};

const funding: Record<string, CardProfile['funding']> = {
  '4000056655665556': 'debit',
  '5200828282828210': 'debit',
  '5105105105105100': 'prepaid',
};

/** The suffixes of Stripe's test tokens (`tok_…`) and test payment methods (`pm_card_…`). */
const testNames: Record<string, string> = {
  visa: '4242424242424242',
  visa_debit: '4000056655665556',
  mastercard: '5555555555554444',
  mastercard_debit: '5200828282828210',
  mastercard_prepaid: '5105105105105100',
  amex: '378282246310005',
  discover: '6011111111111117',
  diners: '3056930009020004',
  jcb: '3566002020360505',
  unionpay: '6200000000000005',
  chargeDeclined: '4000000000000002',
  visa_chargeDeclined: '4000000000000002',
  chargeDeclinedInsufficientFunds: '4000000000009995',
  visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  visa_debit_chargeDeclinedInsufficientFunds: '4000000000009995',
  visa_chargeDeclinedLostCard: '4000000000009987',
  visa_chargeDeclinedStolenCard: '4000000000009979',
  visa_chargeDeclinedVelocityLimitExceeded: '4000000000006975',
  chargeDeclinedExpiredCard: '4000000000000069',
  visa_chargeDeclinedExpiredCard: '4000000000000069',
  chargeDeclinedIncorrectCvc: '4000000000000127',
  visa_chargeDeclinedIncorrectCvc: '4000000000000127',
  chargeDeclinedProcessingError: '4000000000000119',
  visa_chargeDeclinedProcessingError: '4000000000000119',
  chargeCustomerFail: '4000000000000341',
  visa_chargeCustomerFail: '4000000000000341',
};

/** The card number behind `tok_visa`, `pm_card_visa`, `tok_chargeDeclined`…, if it is one. */
export function testCardNumber(name: string): string | undefined {
  const suffix = name.startsWith('pm_card_')
    ? name.slice(8)
    : name.startsWith('tok_')
      ? name.slice(4)
      : undefined;
  return suffix === undefined ? undefined : testNames[suffix];
}

/** Luhn's checksum, which every real and test card number passes (4242424242424241 does not). */
export function luhnValid(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false;
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function brandOf(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(number)) return 'discover';
  if (/^3(0[0-5]|[68])/.test(number)) return 'diners';
  if (/^35/.test(number)) return 'jcb';
  if (/^62/.test(number)) return 'unionpay';
  return 'unknown';
}

/** The profile of a card number, or a 402 `incorrect_number` for one that is not a card number. */
export function profileOf(rawNumber: string): CardProfile {
  const number = rawNumber.replaceAll(/[\s-]/g, '');
  if (!luhnValid(number))
    throw cardError('incorrect_number', 'Your card number is incorrect.', { param: 'number' });
  return { number, brand: brandOf(number), funding: funding[number] ?? 'credit', ...special[number] };
}

/**
 * Whether a charge at `at` (Unix seconds) on this card goes through: the card's own decline, then
 * its expiry against the time of the charge (a test clock's time for clock-bound customers).
 */
export function chargeOutcome(
  profile: CardProfile,
  expiry: { exp_month: number; exp_year: number },
  at: number,
): Decline | undefined {
  if (profile.decline) return profile.decline;
  if (isCardExpired(expiry.exp_month, expiry.exp_year, at)) return declines.expired;
  return profile.chargeDecline;
}

/** Attaching verifies the card: the decline cards and expired cards fail, 0341 passes. */
export function attachOutcome(
  profile: CardProfile,
  expiry: { exp_month: number; exp_year: number },
  at: number,
): Decline | undefined {
  if (profile.decline) return profile.decline;
  if (isCardExpired(expiry.exp_month, expiry.exp_year, at)) return declines.expired;
  return undefined;
}

export const declineError = (decline: Decline, extra: Record<string, unknown> = {}): StripeError =>
  cardError(decline.code, decline.message, {
    ...(decline.decline_code ? { decline_code: decline.decline_code } : {}),
    ...extra,
  });
