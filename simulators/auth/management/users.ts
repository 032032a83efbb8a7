// /api/v2/users and /api/v2/users-by-email: create, read, search, update (including blocking:
// a blocked user gets no tokens) and delete, with Auth0's validation messages and error codes.
import type { Router } from 'express';
import { type AuthDeps, nowIso } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { bodyOf, type Params, route, stringParam } from '../http.ts';
import type { UserRecord } from '../state.ts';
import { requireScope } from './guard.ts';
import { offsetPage, presentUser, selectFields } from './present.ts';
import { searchUsers } from './search.ts';
import { applyUserUpdate, checkPassword, invalidBody } from './user-update.ts';

const notFound = () => new ManagementError(404, 'The user does not exist.', 'inexistent_user');

export function userOr404(deps: AuthDeps, id: string): UserRecord {
  const user = deps.state.users.get(id);
  if (!user) throw notFound();
  return user;
}

function createUser(deps: AuthDeps, body: Params): UserRecord {
  const connection = stringParam(body, 'connection');
  if (!connection) throw invalidBody('Missing required property: connection');
  if (!deps.config.connections.includes(connection)) {
    throw new ManagementError(400, 'The connection does not exist.', 'inexistent_connection');
  }
  const email = stringParam(body, 'email');
  if (!email) throw invalidBody('Missing required property: email');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw invalidBody(`Object didn't pass validation for format email: ${email}`);
  }
  const password = stringParam(body, 'password');
  if (!password) throw invalidBody('Missing required property: password');
  checkPassword(password);
  if (deps.state.findUserByLogin(email, connection)) {
    throw new ManagementError(409, 'The user already exists.', 'auth0_idp_error');
  }
  const customId = stringParam(body, 'user_id');
  const userId = customId ? `auth0|${customId}` : undefined;
  if (userId && deps.state.users.has(userId)) {
    throw new ManagementError(409, 'The user already exists.', 'auth0_idp_error');
  }
  const user = deps.state.addUser(
    {
      user_id: userId ?? deps.state.newUserId(),
      email,
      password,
      connection,
      email_verified: body.email_verified === true,
      blocked: body.blocked === true,
      app_metadata: {},
      user_metadata: {},
      roles: [],
      permissions: [],
      claims: {},
    },
    nowIso(deps),
  );
  // everything else a create may set is what an update may set
  const {
    connection: _c,
    email: _e,
    password: _p,
    user_id: _u,
    email_verified: _v,
    blocked: _b,
    ...rest
  } = body;
  try {
    applyUserUpdate(deps, user, rest);
  } catch (error) {
    deps.state.users.delete(user.user_id);
    throw error;
  }
  return user;
}

export function installUsers(router: Router, deps: AuthDeps): void {
  router.post(
    '/api/v2/users',
    route((req, res) => {
      requireScope(res, 'create:users');
      res.status(201).json(presentUser(createUser(deps, bodyOf(req))));
    }),
  );
  router.get(
    '/api/v2/users',
    route((req, res) => {
      requireScope(res, 'read:users');
      const query = req.query as Params;
      let users = searchUsers([...deps.state.users.values()], stringParam(query, 'q'));
      const connection = stringParam(query, 'connection');
      if (connection) users = users.filter((u) => u.connection === connection);
      const sort = /^(\w+):(-?1)$/.exec(stringParam(query, 'sort') ?? '');
      if (sort) {
        const [, field, direction] = sort as unknown as [string, keyof UserRecord, string];
        users.sort(
          (a, b) => String(a[field] ?? '').localeCompare(String(b[field] ?? '')) * Number(direction),
        );
      }
      const presented = users.map((u) => selectFields(presentUser(u), query));
      res.json(offsetPage(presented, query, 'users'));
    }),
  );
  router.get(
    '/api/v2/users-by-email',
    route((req, res) => {
      requireScope(res, 'read:users');
      const query = req.query as Params;
      const email = stringParam(query, 'email')?.toLowerCase();
      if (!email)
        throw new ManagementError(
          400,
          "Query validation error: 'Missing required property: email'.",
          'invalid_query_string',
        );
      const users = [...deps.state.users.values()].filter((u) => u.email === email);
      res.json(users.map((u) => selectFields(presentUser(u), query)));
    }),
  );
  router.get(
    '/api/v2/users/:id',
    route((req, res) => {
      requireScope(res, 'read:users');
      res.json(selectFields(presentUser(userOr404(deps, String(req.params.id))), req.query as Params));
    }),
  );
  router.patch(
    '/api/v2/users/:id',
    route((req, res) => {
      requireScope(res, 'update:users');
      const user = userOr404(deps, String(req.params.id));
      applyUserUpdate(deps, user, bodyOf(req));
      res.json(presentUser(user));
    }),
  );
  router.delete(
    '/api/v2/users/:id',
    route((req, res) => {
      requireScope(res, 'delete:users');
      const id = String(req.params.id);
      // deleting a user that is not there succeeds, as on Auth0
      deps.state.users.delete(id);
      for (const organization of deps.state.organizations.values()) organization.members.delete(id);
      for (const [token, record] of deps.state.refreshTokens) {
        if (record.user_id === id) deps.state.refreshTokens.delete(token);
      }
      res.status(204).end();
    }),
  );
}
