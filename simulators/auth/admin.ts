// The auth simulator's own admin endpoints under /_sim/: signing-key rotation, a user's token
// claims, and accepting an organization invitation (which on Auth0 happens in Universal Login).
import type { Router } from 'express';
import { maxAheadMs, SimulatorError } from '../kit/index.ts';
import { type AuthDeps, nowIso } from './deps.ts';
import type { UserRecord } from './state.ts';

const badInput = (message: string) => new SimulatorError('PW_SIM_BAD_INPUT', message);
const notFound = (message: string) => new SimulatorError('PW_SIM_NOT_FOUND', message);

type Body = Record<string, unknown>;
const bodyOf = (body: unknown): Body =>
  body && typeof body === 'object' && !Array.isArray(body) ? (body as Body) : {};

function stringList(body: Body, name: string): string[] | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw badInput(`${name} must be a list of strings`);
  return value as string[];
}

function userByIdOrEmail(deps: AuthDeps, idOrEmail: string): UserRecord {
  const user = deps.state.users.get(idOrEmail) ?? deps.state.findUserByLogin(idOrEmail);
  if (!user) throw notFound(`no user ${idOrEmail}; GET /_sim/state lists them`);
  return user;
}

export function installAuthAdmin(router: Router, deps: AuthDeps): void {
  const { state, clock } = deps;
  router.get('/keys', (_req, res) => {
    res.json({ keys: state.keys.snapshot(clock.now()) });
  });
  // { graceMs?: number }: how long the previous key stays published; default keyGracePeriodMs
  router.post('/keys/rotate', async (req, res) => {
    const { graceMs } = bodyOf(req.body);
    if (graceMs !== undefined && (typeof graceMs !== 'number' || !Number.isInteger(graceMs) || graceMs < 0)) {
      throw badInput(
        `graceMs must be a whole number of milliseconds, 0 or more, not ${JSON.stringify(graceMs)}`,
      );
    }
    if (typeof graceMs === 'number' && graceMs > maxAheadMs) {
      // a retirement past what a date can show would break every later /_sim/state
      throw new SimulatorError(
        'PW_SIM_BAD_TIME',
        `graceMs must be at most ${maxAheadMs} ms (100 years), not ${graceMs}`,
      );
    }
    const { current } = await state.keys.rotate(clock.now(), graceMs);
    res.json({ kid: current.kid, keys: state.keys.snapshot(clock.now()) });
  });
  // { roles?, permissions?, claims?, organization? }: what the user's next tokens carry
  router.patch('/users/:idOrEmail', (req, res) => {
    const user = userByIdOrEmail(deps, String(req.params.idOrEmail));
    const body = bodyOf(req.body);
    const roles = stringList(body, 'roles');
    const permissions = stringList(body, 'permissions');
    if (body.claims !== undefined && (typeof body.claims !== 'object' || body.claims === null)) {
      throw badInput('claims must be an object of claim name to value');
    }
    if (body.organization !== undefined && body.organization !== null) {
      const organization = state.findOrganization(String(body.organization));
      if (!organization) throw notFound(`no organization ${String(body.organization)}`);
      organization.members.add(user.user_id);
      user.organization = organization.id;
    } else if (body.organization === null) {
      delete user.organization;
    }
    if (roles) user.roles = roles;
    if (permissions) user.permissions = permissions;
    if (body.claims) user.claims = body.claims as Record<string, unknown>;
    const { password: _password, ...shown } = user;
    res.json(shown);
  });
  // { password?, name? }: the invitee signs up (or, if known, signs in) and joins the organization
  router.post('/invitations/:id/accept', (req, res) => {
    const id = String(req.params.id);
    const invitation =
      state.invitations.get(id) ?? [...state.invitations.values()].find((each) => each.ticket_id === id);
    if (!invitation) throw notFound(`no invitation ${id} (give its id or ticket_id)`);
    if (Date.parse(invitation.expires_at) <= clock.now()) {
      throw new SimulatorError('PW_SIM_BAD_INPUT', `invitation ${id} expired at ${invitation.expires_at}`);
    }
    const organization = state.organizations.get(invitation.organization_id);
    if (!organization) throw notFound(`the organization of invitation ${id} no longer exists`);
    const body = bodyOf(req.body);
    let user = state.findUserByLogin(invitation.invitee.email);
    if (!user) {
      if (typeof body.password !== 'string' || body.password === '') {
        throw badInput(`${invitation.invitee.email} has no account yet: give the password to sign up with`);
      }
      user = state.addUser(
        {
          email: invitation.invitee.email,
          password: body.password,
          ...(typeof body.name === 'string' ? { name: body.name } : {}),
          email_verified: true,
          blocked: false,
          app_metadata: invitation.app_metadata,
          user_metadata: invitation.user_metadata,
          roles: [],
          permissions: [],
          claims: {},
        },
        nowIso(deps),
      );
    }
    organization.members.add(user.user_id);
    user.organization ??= organization.id;
    user.roles = [...new Set([...user.roles, ...invitation.roles])];
    state.invitations.delete(invitation.id);
    res.json({ user_id: user.user_id, organization_id: organization.id, roles: user.roles });
  });
}
