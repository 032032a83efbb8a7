/**
 * Salesforce record ids: a 3-character key prefix naming the object, an instance part, a base-62
 * counter (15 case-sensitive characters) and a 3-character suffix that encodes the case of the first
 * 15, so the 18-character form is safe in case-insensitive systems.
 */
export const keyPrefixes = {
  Account: '001',
  Contact: '003',
  Task: '00T',
  Case: '500',
  Opportunity: '006',
  User: '005',
  Organization: '00D',
  QueryLocator: '01g',
} as const;

const suffixAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const id15Pattern = /^[a-zA-Z0-9]{15}$/;
const id18Pattern = /^[a-zA-Z0-9]{18}$/;

/** The three suffix characters: for each block of five, bit i is set when character i is A–Z. */
export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(block * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += suffixAlphabet[bits];
  }
  return suffix;
}

/**
 * The canonical 18-character id for a 15- or 18-character one, or undefined when the value is no
 * Salesforce id at all (wrong length, characters, or an 18-character id whose suffix does not match).
 */
export function normalizeId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (id15Pattern.test(value)) return value + checksumSuffix(value);
  if (!id18Pattern.test(value)) return undefined;
  // the suffix is case-insensitive by design: clients may upper- or lower-case it
  const head = value.slice(0, 15);
  const suffix = checksumSuffix(head);
  return value.slice(15).toUpperCase() === suffix ? head + suffix : undefined;
}

export const isValidId = (value: unknown): boolean => normalizeId(value) !== undefined;

export type IdGenerator = {
  /** The next 18-character id with this key prefix. */
  next(keyPrefix: string): string;
  reset(): void;
};

/**
 * Deterministic ids: a counter per key prefix, so the same run after a reset gets the same ids
 * (a replayed run's requests then carry the same ids as the original).
 */
export function createIdGenerator(instance = '8d'): IdGenerator {
  const counters = new Map<string, number>();
  return {
    next(keyPrefix) {
      const n = (counters.get(keyPrefix) ?? 0) + 1;
      counters.set(keyPrefix, n);
      // 3 prefix + 2 instance + 1 reserved + 9 counter characters = 15
      const id15 = `${keyPrefix}${instance}0${toBase62(n).padStart(9, '0')}`;
      return id15 + checksumSuffix(id15);
    },
    reset() {
      counters.clear();
    },
  };
}

function toBase62(n: number): string {
  let out = '';
  let rest = n;
  do {
    out = base62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out;
}
