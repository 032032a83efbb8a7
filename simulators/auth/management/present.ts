// How the Management API shows its objects: a user as Auth0 returns it (identities, no password,
// the sim-only claim settings left out), `fields`/`include_fields` filtering, and the two list
// shapes: a bare array, or `{start, limit, length, total, <name>}` with include_totals.
import { boolParam, intParam, type Params, stringParam } from '../http.ts';
import type { UserRecord } from '../state.ts';

export function presentUser(user: UserRecord) {
  const [provider, id] = user.user_id.includes('|') ? user.user_id.split('|', 2) : ['auth0', user.user_id];
  const {
    password: _password,
    roles: _roles,
    permissions: _permissions,
    organization: _organization,
    claims: _claims,
    connection,
    app_metadata,
    user_metadata,
    blocked,
    ...profile
  } = user;
  return {
    ...profile,
    identities: [{ connection, provider, user_id: id, isSocial: false }],
    ...(Object.keys(app_metadata).length > 0 ? { app_metadata } : {}),
    ...(Object.keys(user_metadata).length > 0 ? { user_metadata } : {}),
    ...(blocked ? { blocked } : {}),
  };
}

/** Keeps (or, with include_fields=false, drops) the comma-separated `fields`. */
export function selectFields<T extends object>(object: T, query: Params): Partial<T> {
  const fields = stringParam(query, 'fields')
    ?.split(',')
    .map((f) => f.trim());
  if (!fields) return object;
  const include = boolParam(query, 'include_fields', true);
  return Object.fromEntries(
    Object.entries(object).filter(([key]) => fields.includes(key) === include),
  ) as Partial<T>;
}

/** One page (`page`, `per_page` ≤ 100) as Auth0 answers it, with or without totals. */
export function offsetPage<T>(items: T[], query: Params, name: string, defaultTotals = false) {
  const perPage = Math.max(1, intParam(query, 'per_page', 50, 100));
  const page = intParam(query, 'page', 0);
  const slice = items.slice(page * perPage, (page + 1) * perPage);
  if (!boolParam(query, 'include_totals', defaultTotals)) return slice;
  return { start: page * perPage, limit: perPage, length: slice.length, total: items.length, [name]: slice };
}

/** Checkpoint pagination (`from`, `take` ≤ 100): `{<name>, next}` where `next` is the id to go on from. */
export function checkpointPage<T extends { id: string }>(items: T[], query: Params, name: string) {
  const take = Math.max(1, intParam(query, 'take', 50, 100));
  const from = stringParam(query, 'from');
  const start =
    from === undefined
      ? 0
      : Math.max(
          0,
          items.findIndex((item) => item.id === from),
        );
  const slice = items.slice(start, start + take);
  const next = items[start + take]?.id;
  return { [name]: slice, ...(next ? { next } : {}) };
}
