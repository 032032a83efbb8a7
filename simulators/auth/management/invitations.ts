// /api/v2/organizations/{id}/invitations: create, list, read and delete, with Auth0's
// invitation_url (`<login route>?invitation=<ticket>&organization=<id>&organization_name=<name>`,
// the login route being the client's initiate_login_uri). Accepting one is the simulator's
// admin endpoint POST /_sim/invitations/{id}/accept, since the real acceptance runs through
// Universal Login, which the simulator does not serve.
import type { Router } from 'express';
import type { AuthDeps } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { bodyOf, intParam, type Params, route, stringParam } from '../http.ts';
import type { InvitationRecord } from '../state.ts';
import { requireScope } from './guard.ts';
import { organizationOr404 } from './organizations.ts';
import { offsetPage, selectFields } from './present.ts';
import { invalidBody } from './user-update.ts';

/** Auth0's default invitation lifetime, 7 days, and its longest, 30 days. */
const defaultTtlS = 604_800;
const maxTtlS = 2_592_000;

function objectParam(body: Params, name: string, field: string): string {
  const value = body[name];
  const inner = value && typeof value === 'object' ? stringParam(value as Params, field) : undefined;
  if (!inner) throw invalidBody(`Missing required property: ${name}.${field}`);
  return inner;
}

function createInvitation(deps: AuthDeps, organizationId: string, body: Params): InvitationRecord {
  const organization = organizationOr404(deps, organizationId);
  const inviter = objectParam(body, 'inviter', 'name');
  const invitee = objectParam(body, 'invitee', 'email');
  const clientId = stringParam(body, 'client_id');
  if (!clientId) throw invalidBody('Missing required property: client_id');
  const client = deps.state.clients.get(clientId);
  if (!client) throw new ManagementError(404, 'The client does not exist', 'inexistent_client');
  const ttlS = intParam(body, 'ttl_sec', 0) || defaultTtlS;
  if (ttlS > maxTtlS)
    throw invalidBody(`Value ${ttlS} is greater than maximum ${maxTtlS} on property ttl_sec`);
  const roles = Array.isArray(body.roles) ? body.roles.filter((r): r is string => typeof r === 'string') : [];
  const ticketId = deps.state.newSecret(24, 'invitation-ticket');
  const login = new URL(client.initiate_login_uri ?? `${deps.url()}/login`);
  login.searchParams.set('invitation', ticketId);
  login.searchParams.set('organization', organization.id);
  login.searchParams.set('organization_name', organization.name);
  const now = deps.clock.now();
  const metadata = (name: string) =>
    body[name] && typeof body[name] === 'object' ? (body[name] as Record<string, unknown>) : {};
  const invitation: InvitationRecord = {
    id: deps.state.newInvitationId(),
    organization_id: organization.id,
    inviter: { name: inviter },
    invitee: { email: invitee.toLowerCase() },
    invitation_url: login.href,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + ttlS * 1000).toISOString(),
    client_id: clientId,
    ...(stringParam(body, 'connection_id') ? { connection_id: stringParam(body, 'connection_id') } : {}),
    app_metadata: metadata('app_metadata'),
    user_metadata: metadata('user_metadata'),
    roles,
    ticket_id: ticketId,
  };
  deps.state.invitations.set(invitation.id, invitation);
  return invitation;
}

function invitationOr404(deps: AuthDeps, organizationId: string, id: string): InvitationRecord {
  const invitation = deps.state.invitations.get(id);
  if (!invitation || invitation.organization_id !== organizationId) {
    throw new ManagementError(404, 'The invitation does not exist', 'inexistent_invitation');
  }
  return invitation;
}

export function installInvitations(router: Router, deps: AuthDeps): void {
  const base = '/api/v2/organizations/:id/invitations';
  router.post(
    base,
    route((req, res) => {
      requireScope(res, 'create:organization_invitations');
      res.status(201).json(createInvitation(deps, String(req.params.id), bodyOf(req)));
    }),
  );
  router.get(
    base,
    route((req, res) => {
      requireScope(res, 'read:organization_invitations');
      const organization = organizationOr404(deps, String(req.params.id));
      const query = req.query as Params;
      const invitations = [...deps.state.invitations.values()]
        .filter((invitation) => invitation.organization_id === organization.id)
        .map((invitation) => selectFields(invitation, query));
      res.json(offsetPage(invitations, query, 'invitations'));
    }),
  );
  router.get(
    `${base}/:invitationId`,
    route((req, res) => {
      requireScope(res, 'read:organization_invitations');
      const invitation = invitationOr404(deps, String(req.params.id), String(req.params.invitationId));
      res.json(selectFields(invitation, req.query as Params));
    }),
  );
  router.delete(
    `${base}/:invitationId`,
    route((req, res) => {
      requireScope(res, 'delete:organization_invitations');
      invitationOr404(deps, String(req.params.id), String(req.params.invitationId));
      deps.state.invitations.delete(String(req.params.invitationId));
      res.status(204).end();
    }),
  );
}
