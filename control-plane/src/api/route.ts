import { OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { Role, TenantPrincipal } from '../auth/principal.ts';
import { resolveOrgAccess } from '../auth/principal.ts';
import { type AgentIdentity, authenticateAgent, rateLimited } from '../dataplane/agents.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError, forbidden, unauthorized } from '../errors.ts';
import { z } from './zod.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnySchema = z.ZodType;

/** Who may call a route: anyone, any authenticated caller, or a member of the path's organization. */
export type Access =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'org'; roles?: readonly Role[] }
  /** The platform operator's API (bearer ADMIN_TOKEN); 404 when no ADMIN_TOKEN is configured. */
  | { kind: 'admin' }
  /** A data-plane agent (bearer `pwa_…`), rate-limited per agent; never a user, API key or operator. */
  | { kind: 'agent' };

export interface RouteSpec<P extends AnySchema, Q extends AnySchema, B extends AnySchema> {
  method: Method;
  /** OpenAPI-style path, e.g. `/v1/orgs/{orgId}/api-keys`. */
  path: string;
  summary: string;
  tags: string[];
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** Status and schema of the success response; `schema` undefined means no body. */
  response: { status: number; schema?: AnySchema; description?: string };
  /** Further answers to describe, such as 304, 410 or 429 (error format unless 304). */
  otherResponses?: Record<number, string>;
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  deps: AppDeps;
  requestId: string;
  /** The caller; undefined only on public and admin routes. */
  principal: TenantPrincipal | undefined;
  /** The calling agent, on `access.kind === 'agent'` routes only. */
  agent: AgentIdentity | undefined;
  params: P;
  query: Q;
  body: B;
  /** The caller's organization and role, for `access.kind === 'org'` routes. */
  org: { id: string; role: Role };
}

const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

/** The 400 for a value that failed its schema; `prefix` places the issues inside a larger value. */
export function validationError(where: string, error: z.ZodError, prefix: PropertyKey[] = []): ApiError {
  return new ApiError(
    400,
    'validation_failed',
    `invalid ${where}: ${z.prettifyError(error).replaceAll('\n', '; ')}`,
    {
      issues: error.issues.map((issue) => ({
        in: where,
        path: [...prefix, ...issue.path].map(String).join('.'),
        message: issue.message,
      })),
    },
  );
}

/** Routes and their OpenAPI description, built from the same zod schemas that validate requests. */
export class Api {
  readonly registry = new OpenAPIRegistry();
  readonly router: Router;
  readonly deps: AppDeps;

  constructor(router: Router, deps: AppDeps) {
    this.router = router;
    this.deps = deps;
    this.registry.registerComponent('securitySchemes', 'bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'A user JWT from the auth provider, or an API key (`pw_…`)',
    });
    this.registry.registerComponent('securitySchemes', 'agent', {
      type: 'http',
      scheme: 'bearer',
      description: "A data-plane agent's credential (`pwa_…`), from POST /v1/agent/register",
    });
    this.registry.register('Error', errorSchema);
  }

  route<
    P extends AnySchema = z.ZodObject,
    Q extends AnySchema = z.ZodObject,
    B extends AnySchema = z.ZodUnknown,
  >(spec: RouteSpec<P, Q, B>): void {
    const errorResponses: RouteConfig['responses'] = {};
    for (const [status, description] of [
      [400, 'Invalid input'],
      [401, 'Not authenticated'],
      [403, 'Role not allowed'],
      [404, 'Not found'],
      [409, 'Conflicts with the current state'],
    ] as const) {
      if (spec.access.kind === 'public' && (status === 401 || status === 403)) continue;
      errorResponses[status] = { description, content: { 'application/json': { schema: errorSchema } } };
    }
    const otherResponses =
      spec.access.kind === 'agent'
        ? { 429: 'Rate limited: retry after `Retry-After` seconds', ...spec.otherResponses }
        : (spec.otherResponses ?? {});
    for (const [status, description] of Object.entries(otherResponses)) {
      errorResponses[Number(status)] =
        status === '304'
          ? { description }
          : { description, content: { 'application/json': { schema: errorSchema } } };
    }
    this.registry.registerPath({
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      tags: spec.tags,
      security:
        spec.access.kind === 'public'
          ? []
          : spec.access.kind === 'agent'
            ? [{ agent: [] }]
            : [{ bearer: [] }],
      request: {
        ...(spec.params ? { params: spec.params as unknown as z.ZodObject } : {}),
        ...(spec.query ? { query: spec.query as unknown as z.ZodObject } : {}),
        ...(spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : {}),
      },
      responses: {
        [spec.response.status]: {
          description: spec.response.description ?? 'Success',
          ...(spec.response.schema
            ? { content: { 'application/json': { schema: spec.response.schema } } }
            : {}),
        },
        ...errorResponses,
      },
    });

    const expressPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    this.router[spec.method](expressPath, async (req: Request, res: Response) => {
      const principal = req.principal;
      let agent: AgentIdentity | undefined;
      if (spec.access.kind === 'agent') {
        if (principal)
          throw forbidden(
            'the agent API needs an agent credential (Bearer pwa_…), not a user token, API key or admin token',
          );
        if (!req.agentToken) throw unauthorized('the agent API needs Authorization: Bearer pwa_…');
        // the fleet-wide bound first: a storm is refused before it costs a credential lookup
        takeOrRefuse(this.deps, res, 'global_rate', 'global', 'the agent gateway is busy');
        agent = await authenticateAgent(this.deps.db, req.agentToken);
        takeOrRefuse(this.deps, res, 'agent_rate', agent.id, 'too many requests from this agent');
      } else if (req.agentToken && spec.access.kind !== 'public') {
        throw forbidden('an agent credential opens the /v1/agent API only');
      } else if (spec.access.kind === 'admin') {
        if (!this.deps.config.ADMIN_TOKEN)
          throw new ApiError(404, 'not_found', 'the admin API is off: set ADMIN_TOKEN');
        if (!principal) throw unauthorized('the admin API needs Authorization: Bearer <ADMIN_TOKEN>');
        if (principal.type !== 'operator') throw forbidden('the admin API needs the admin token');
      } else if (principal?.type === 'operator') {
        throw forbidden('the admin token only opens the /v1/admin API');
      } else if (spec.access.kind !== 'public' && !principal) throw unauthorized();
      const params = parse('path parameters', spec.params, req.params);
      const query = parse('query', spec.query, req.query);
      if (spec.body && req.body === undefined && Number(req.headers['content-length'] ?? 0) > 0) {
        throw new ApiError(
          415,
          'unsupported_media_type',
          'send the body as JSON with Content-Type: application/json',
        );
      }
      let org = { id: '', role: 'member' as Role };
      if (spec.access.kind === 'org') {
        const orgId = (params as { orgId?: string }).orgId;
        if (!orgId) throw new Error(`route ${spec.path} declares org access but has no {orgId}`);
        org = { id: orgId, role: await resolveOrgAccess(this.deps.db, principal as TenantPrincipal, orgId) };
        if (spec.access.roles && !spec.access.roles.includes(org.role)) {
          throw forbidden(
            `this action needs one of the roles ${spec.access.roles.join(', ')}; you are ${org.role}`,
          );
        }
      }
      const body = spec.body ? parse('body', spec.body, req.body ?? {}) : undefined;
      const result = await spec.handler({
        req,
        res,
        deps: this.deps,
        requestId: req.requestId,
        principal: principal?.type === 'operator' ? undefined : principal,
        agent,
        params: params as never,
        query: query as never,
        body: body as never,
        org,
      });
      if (res.headersSent) return;
      res.status(spec.response.status);
      if (spec.response.schema === undefined) res.end();
      else res.json(result);
    });
  }
}

function parse(where: string, schema: AnySchema | undefined, value: unknown): unknown {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/**
 * Takes a token from one of the agent gateway's buckets, or answers 429 with `Retry-After` and
 * counts the refusal by reason.
 */
export function takeOrRefuse(
  deps: AppDeps,
  res: Response,
  reason: 'global_rate' | 'agent_rate' | 'register_rate',
  key: string,
  what: string,
): void {
  const bucket =
    reason === 'global_rate'
      ? deps.agentLimits.global
      : reason === 'agent_rate'
        ? deps.agentLimits.perAgent
        : deps.agentLimits.register;
  const taken = bucket.take(key);
  if (taken.ok) return;
  deps.metrics.agentRequestsRejected.inc({ reason });
  res.setHeader('Retry-After', String(taken.retryAfterSeconds));
  throw rateLimited(`${what}; retry after ${taken.retryAfterSeconds} s`, taken.retryAfterSeconds);
}
