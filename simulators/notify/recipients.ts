// How recipients are compared: email addresses without case (the domain is case-insensitive and
// no real mailbox tells local parts apart by case), phone numbers without spaces, dashes or
// parentheses. Patterns take `*` for any text, so `bounce@*` or `+1555*` name a group.

/** An address as the mailbox stores and compares it. */
export function normalizeRecipient(address: string): string {
  const trimmed = address.trim();
  if (trimmed.includes('@')) return trimmed.toLowerCase();
  return trimmed.replace(/[\s().-]/g, '');
}

/**
 * A recipient pattern as a test: `*` is any text; otherwise the whole address must be equal.
 * @example recipientMatcher('bounce@*')('Bounce@Example.test') // true
 */
export function recipientMatcher(pattern: string): (address: string) => boolean {
  const normalized = normalizeRecipient(pattern);
  if (!normalized.includes('*')) return (address) => normalizeRecipient(address) === normalized;
  const source = normalized.split('*').map(escapeRegExp).join('.*');
  const regex = new RegExp(`^${source}$`, 's');
  return (address) => regex.test(normalizeRecipient(address));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
