import { describe, expect, it } from 'vitest';
import { ManagementError } from '../errors.ts';
import type { UserRecord } from '../state.ts';
import { searchUsers } from './search.ts';

const user = (email: string, extra: Partial<UserRecord> = {}) =>
  ({
    user_id: `auth0|${email.split('@')[0]}`,
    email,
    name: email.split('@')[0],
    nickname: email.split('@')[0],
    connection: 'Username-Password-Authentication',
    app_metadata: {},
    user_metadata: {},
    blocked: false,
    password: 'secret',
    ...extra,
  }) as UserRecord;

const users = [
  user('alice@example.com', { app_metadata: { plan: 'pro' }, name: 'Alice Liddell' }),
  user('bob@example.com', { blocked: true }),
  user('carol@other.org', { app_metadata: { plan: 'free' } }),
];
const ids = (q: string | undefined) => searchUsers(users, q).map((u) => u.user_id);

describe('searchUsers', () => {
  it('field:value, quoted values and wildcards, case-insensitively', () => {
    expect(ids('email:"ALICE@example.com"')).toEqual(['auth0|alice']);
    expect(ids('email:*@example.com')).toEqual(['auth0|alice', 'auth0|bob']);
    expect(ids('name:"Alice Liddell"')).toEqual(['auth0|alice']);
    expect(ids('user_id:"auth0|bob"')).toEqual(['auth0|bob']);
  });

  it('nested metadata, booleans, bare terms, AND binding tighter than OR', () => {
    expect(ids('app_metadata.plan:pro')).toEqual(['auth0|alice']);
    expect(ids('blocked:true')).toEqual(['auth0|bob']);
    expect(ids('carol*')).toEqual(['auth0|carol']);
    expect(ids('email:*example.com AND blocked:false OR app_metadata.plan:free')).toEqual([
      'auth0|alice',
      'auth0|carol',
    ]);
    // no operator: Lucene's default, OR
    expect(ids('email:alice* email:bob*')).toEqual(['auth0|alice', 'auth0|bob']);
    expect(ids(undefined)).toHaveLength(3);
  });

  it('never matches on the password; refuses syntax it does not support', () => {
    expect(ids('password:secret')).toEqual([]);
    expect(() => ids('NOT email:x')).toThrow(ManagementError);
    expect(() => ids('created_at:[2020 TO 2030]')).toThrow(/unsupported syntax/);
    expect(() => ids('email:x AND')).toThrow(/ends with an operator/);
  });
});
