const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Stripe's `previous_attributes`: the old values of what changed, nested for nested hashes
 * (`{ invoice_settings: { default_payment_method: null } }`) and whole for lists and scalars.
 * `undefined` when nothing changed, so no `*.updated` event is sent for a no-op.
 */
export function previousAttributes(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (same(old, now)) continue;
    // a list object changes as a whole; a hash reports only its changed keys
    if (isPlainObject(old) && isPlainObject(now) && old.object !== 'list') {
      const nested = previousAttributes(old, now);
      if (nested) out[key] = nested;
    } else {
      out[key] = old === undefined ? null : old;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
