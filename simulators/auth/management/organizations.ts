// /api/v2/organizations: create, list (offset pages, or checkpoint pages with from/take as the
// v7 SDK asks), read by id or name, update, delete, and members. Invitations are in
// invitations.ts.
import type { Router } from 'express';
import type { AuthDeps } from '../deps.ts';
import { ManagementError } from '../errors.ts';
import { bodyOf, type Params, route, stringParam } from '../http.ts';
import type { OrganizationRecord } from '../state.ts';
import { requireScope } from './guard.ts';
import { checkpointPage, offsetPage } from './present.ts';
import { invalidBody } from './user-update.ts';
import { userOr404 } from './users.ts';

const namePattern = /^[a-z0-9][a-z0-9_-]{0,49}$/;

export function presentOrganization({ members: _members, ...organization }: OrganizationRecord) {
  return {
    id: organization.id,
    name: organization.name,
    display_name: organization.display_name,
    ...(Object.keys(organization.metadata).length > 0 ? { metadata: organization.metadata } : {}),
    ...(organization.branding ? { branding: organization.branding } : {}),
  };
}

export function organizationOr404(deps: AuthDeps, id: string): OrganizationRecord {
  const organization = deps.state.organizations.get(id);
  if (!organization)
    throw new ManagementError(404, 'No organization found by that id or name', 'inexistent_organization');
  return organization;
}

function applyOrganization(deps: AuthDeps, organization: OrganizationRecord, body: Params): void {
  const name = stringParam(body, 'name');
  if (name !== undefined) {
    if (!namePattern.test(name)) {
      throw invalidBody(`String does not match pattern ^[a-z0-9][a-z0-9_-]{0,49}$: ${name} on property name`);
    }
    const other = deps.state.findOrganization(name);
    if (other && other !== organization)
      throw new ManagementError(409, 'An organization with this name already exists.');
    organization.name = name;
  }
  const displayName = stringParam(body, 'display_name');
  if (displayName !== undefined) organization.display_name = displayName;
  if (body.metadata && typeof body.metadata === 'object') {
    organization.metadata = Object.fromEntries(
      Object.entries({ ...organization.metadata, ...body.metadata }).filter(([, v]) => v !== null),
    ) as Record<string, string>;
  }
  if (body.branding && typeof body.branding === 'object')
    organization.branding = body.branding as Record<string, unknown>;
}

/** The `members` array of a members request body: user ids that must exist. */
function memberIds(deps: AuthDeps, body: Params): string[] {
  const members = body.members;
  if (!Array.isArray(members) || members.some((m) => typeof m !== 'string')) {
    throw invalidBody('Missing required property: members');
  }
  for (const id of members) userOr404(deps, id);
  return members;
}

export function installOrganizations(router: Router, deps: AuthDeps): void {
  const { state } = deps;
  router.post(
    '/api/v2/organizations',
    route((req, res) => {
      requireScope(res, 'create:organizations');
      const body = bodyOf(req);
      if (!stringParam(body, 'name')) throw invalidBody('Missing required property: name');
      const organization: OrganizationRecord = {
        id: state.newOrganizationId(),
        name: '',
        display_name: '',
        metadata: {},
        members: new Set(),
      };
      applyOrganization(deps, organization, body);
      organization.display_name ||= organization.name;
      state.organizations.set(organization.id, organization);
      res.status(201).json(presentOrganization(organization));
    }),
  );
  router.get(
    '/api/v2/organizations',
    route((req, res) => {
      requireScope(res, 'read:organizations');
      const query = req.query as Params;
      const all = [...state.organizations.values()].map(presentOrganization);
      const checkpoint = query.from !== undefined || query.take !== undefined;
      res.json(
        checkpoint ? checkpointPage(all, query, 'organizations') : offsetPage(all, query, 'organizations'),
      );
    }),
  );
  router.get(
    '/api/v2/organizations/name/:name',
    route((req, res) => {
      requireScope(res, 'read:organizations');
      const organization = [...state.organizations.values()].find((o) => o.name === req.params.name);
      res.json(presentOrganization(organization ?? organizationOr404(deps, '')));
    }),
  );
  router.get(
    '/api/v2/organizations/:id',
    route((req, res) => {
      requireScope(res, 'read:organizations');
      res.json(presentOrganization(organizationOr404(deps, String(req.params.id))));
    }),
  );
  router.patch(
    '/api/v2/organizations/:id',
    route((req, res) => {
      requireScope(res, 'update:organizations');
      const organization = organizationOr404(deps, String(req.params.id));
      applyOrganization(deps, organization, bodyOf(req));
      res.json(presentOrganization(organization));
    }),
  );
  router.delete(
    '/api/v2/organizations/:id',
    route((req, res) => {
      requireScope(res, 'delete:organizations');
      const id = String(req.params.id);
      state.organizations.delete(id);
      for (const [key, invitation] of state.invitations)
        if (invitation.organization_id === id) state.invitations.delete(key);
      for (const user of state.users.values()) if (user.organization === id) delete user.organization;
      res.status(204).end();
    }),
  );
  router.get(
    '/api/v2/organizations/:id/members',
    route((req, res) => {
      requireScope(res, 'read:organization_members');
      const organization = organizationOr404(deps, String(req.params.id));
      const members = [...organization.members].flatMap((id) => {
        const user = state.users.get(id);
        return user ? [{ id, user_id: id, email: user.email, name: user.name, picture: user.picture }] : [];
      });
      const query = req.query as Params;
      const page: Record<string, unknown> | unknown[] =
        query.from !== undefined || query.take !== undefined
          ? checkpointPage(members, query, 'members')
          : offsetPage(members, query, 'members');
      // `id` is only the checkpoint cursor: Auth0's member objects have none
      const strip = (list: unknown) => (list as typeof members).map(({ id: _id, ...member }) => member);
      res.json(Array.isArray(page) ? strip(page) : { ...page, members: strip(page.members) });
    }),
  );
  router.post(
    '/api/v2/organizations/:id/members',
    route((req, res) => {
      requireScope(res, 'create:organization_members');
      const organization = organizationOr404(deps, String(req.params.id));
      for (const id of memberIds(deps, bodyOf(req))) organization.members.add(id);
      res.status(204).end();
    }),
  );
  router.delete(
    '/api/v2/organizations/:id/members',
    route((req, res) => {
      requireScope(res, 'delete:organization_members');
      const organization = organizationOr404(deps, String(req.params.id));
      for (const id of memberIds(deps, bodyOf(req))) {
        organization.members.delete(id);
        const user = state.users.get(id);
        if (user?.organization === organization.id) delete user.organization;
      }
      res.status(204).end();
    }),
  );
}
