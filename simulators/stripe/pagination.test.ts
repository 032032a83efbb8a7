import { describe, expect, it } from 'vitest';
import type { StripeError } from './errors.ts';
import { newestFirst, paginate, readRange } from './pagination.ts';

// newest first, as lists are kept
const items = newestFirst(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id: `cus_${id}` })));
const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);

describe('paginate', () => {
  it('pages forward with starting_after until has_more is false', () => {
    const first = paginate(items, { limit: '2' }, '/v1/customers', 'customer');
    expect(first).toMatchObject({ object: 'list', url: '/v1/customers', has_more: true });
    expect(ids(first)).toEqual(['cus_e', 'cus_d']);
    const second = paginate(items, { limit: 2, starting_after: 'cus_d' }, '/v1/customers', 'customer');
    expect(ids(second)).toEqual(['cus_c', 'cus_b']);
    const last = paginate(items, { limit: 2, starting_after: 'cus_b' }, '/v1/customers', 'customer');
    expect(ids(last)).toEqual(['cus_a']);
    expect(last.has_more).toBe(false);
  });

  it('pages backward with ending_before, keeping newest-first order', () => {
    const page = paginate(items, { limit: 2, ending_before: 'cus_b' }, '/v1/customers', 'customer');
    expect(ids(page)).toEqual(['cus_d', 'cus_c']);
    expect(page.has_more).toBe(true);
    const top = paginate(items, { limit: 5, ending_before: 'cus_c' }, '/v1/customers', 'customer');
    expect(ids(top)).toEqual(['cus_e', 'cus_d']);
    expect(top.has_more).toBe(false);
  });

  it('defaults to 10 and rejects limits outside 1–100, unknown cursors and both cursors', () => {
    expect(paginate(items, {}, '/v1/customers', 'customer').data).toHaveLength(5);
    const fail = (params: Record<string, unknown>) => {
      try {
        paginate(items, params, '/v1/customers', 'customer');
      } catch (error) {
        return (error as StripeError).toResponse();
      }
      throw new Error('expected an error');
    };
    expect(fail({ limit: '0' }).body.error.param).toBe('limit');
    expect(fail({ limit: '101' }).status).toBe(400);
    expect(fail({ limit: 'x' }).body.error.code).toBe('parameter_invalid_integer');
    expect(fail({ starting_after: 'cus_zz' })).toMatchObject({
      status: 400,
      body: {
        error: { code: 'resource_missing', param: 'starting_after', message: "No such customer: 'cus_zz'" },
      },
    });
    expect(fail({ starting_after: 'cus_a', ending_before: 'cus_e' }).status).toBe(400);
  });
});

describe('readRange', () => {
  it('filters created[gte]/[lt] and exact values', () => {
    const range = readRange({ created: { gte: '10', lt: '20' } }, 'created');
    expect([9, 10, 19, 20].map(range)).toEqual([false, true, true, false]);
    expect(readRange({ created: '5' }, 'created')(5)).toBe(true);
    expect(readRange({}, 'created')(1)).toBe(true);
  });
});
