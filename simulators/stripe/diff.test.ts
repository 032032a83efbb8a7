import { describe, expect, it } from 'vitest';
import { previousAttributes } from './diff.ts';

describe('previousAttributes', () => {
  it('gives old scalar values and nested hashes partially', () => {
    const before = { status: 'trialing', invoice_settings: { default_payment_method: null, footer: null } };
    const after = { status: 'active', invoice_settings: { default_payment_method: 'pm_1', footer: null } };
    expect(previousAttributes(before, after)).toEqual({
      status: 'trialing',
      invoice_settings: { default_payment_method: null },
    });
  });

  it('gives whole lists and metadata keys that were added as null', () => {
    const before = { items: { object: 'list', data: [{ id: 'si_1', price: 'a' }] }, metadata: {} };
    const after = {
      items: { object: 'list', data: [{ id: 'si_1', price: 'b' }] },
      metadata: { plan: 'pro' },
    };
    expect(previousAttributes(before, after)).toEqual({
      items: { object: 'list', data: [{ id: 'si_1', price: 'a' }] },
      metadata: { plan: null },
    });
  });

  it('is undefined when nothing changed', () => {
    expect(previousAttributes({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } })).toBeUndefined();
  });
});
