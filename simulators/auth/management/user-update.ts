// PATCH /api/v2/users/{id} semantics: which fields may change, metadata merged one level deep
// (a null value removes a key), the password policy ("good": 8 characters and three of lower,
// upper, digits and symbols), and Auth0's refusal to change email and password in one request.
import { type AuthDeps, nowIso } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import type { Params } from '../http.ts';
import type { UserRecord } from '../state.ts';

export const invalidBody = (why: string) =>
  new ManagementError(400, `Payload validation error: '${why}'.`, 'invalid_body');

const textFields = ['name', 'nickname', 'picture', 'given_name', 'family_name', 'username'] as const;
const allowed = new Set<string>([
  ...textFields,
  'email',
  'email_verified',
  'verify_email',
  'password',
  'blocked',
  'app_metadata',
  'user_metadata',
  'connection',
  'client_id',
  'phone_number',
  'phone_verified',
  'verify_phone_number',
]);

export function checkPassword(password: string): void {
  const kinds = [/[a-z]/, /[A-Z]/, /\d/, /[^a-zA-Z\d]/].filter((kind) => kind.test(password)).length;
  if (password.length < 8 || kinds < 3) {
    throw new ManagementError(400, 'PasswordStrengthError: Password is too weak', 'invalid_body');
  }
}

function mergeMetadata(current: Record<string, unknown>, patch: object): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

export function applyUserUpdate(deps: AuthDeps, user: UserRecord, body: Params): void {
  const unknown = Object.keys(body).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw invalidBody(`Additional properties not allowed: ${unknown.join(',')}`);
  if (body.email !== undefined && body.password !== undefined) {
    throw new ManagementError(400, 'Cannot update password and email simultaneously', 'invalid_body');
  }
  for (const field of ['blocked', 'email_verified'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'boolean') {
      throw invalidBody(`Expected type boolean but found type ${typeof body[field]} on property ${field}`);
    }
  }
  for (const field of ['app_metadata', 'user_metadata'] as const) {
    const value = body[field];
    if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      const found = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
      throw invalidBody(`Expected type object but found type ${found} on property ${field}`);
    }
  }
  if (typeof body.password === 'string') checkPassword(body.password);
  if (typeof body.email === 'string') {
    const email = body.email.toLowerCase();
    const other = deps.state.findUserByLogin(email, user.connection);
    if (other && other !== user)
      throw new ManagementError(409, 'The specified new email already exists', 'auth0_idp_error');
    user.email = email;
    // a changed address is unverified unless the same request says otherwise
    user.email_verified = body.email_verified === true;
  } else if (typeof body.email_verified === 'boolean') {
    user.email_verified = body.email_verified;
  }
  if (typeof body.password === 'string') {
    user.password = body.password;
    user.last_password_reset = nowIso(deps);
  }
  if (typeof body.blocked === 'boolean') user.blocked = body.blocked;
  for (const field of textFields) {
    const value = body[field];
    if (value === null && field !== 'name' && field !== 'nickname' && field !== 'picture') delete user[field];
    else if (typeof value === 'string') user[field] = value;
  }
  if (body.app_metadata) user.app_metadata = mergeMetadata(user.app_metadata, body.app_metadata);
  if (body.user_metadata) user.user_metadata = mergeMetadata(user.user_metadata, body.user_metadata);
  user.updated_at = nowIso(deps);
}
