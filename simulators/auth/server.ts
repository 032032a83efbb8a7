// Assembles the auth simulator from the kit: its state, the Authentication API (discovery, JWKS,
// token, userinfo, ticket pages), the Management API behind its token guard, and its admin
// endpoints. The issuer is `<url>/`, known only once the server listens.
import { type LogLevel, type SimClock, Simulator } from '../kit/index.ts';
import { installAuthAdmin } from './admin.ts';
import type { AuthConfig } from './config.ts';
import type { AuthDeps } from './deps.ts';
import { auth0VendorResponses } from './errors.ts';
import { clientIdOf } from './grants/client-auth.ts';
import { bodyOf } from './http.ts';
import { Jwt } from './jwt.ts';
import { KeyRing } from './keys.ts';
import { requireManagementToken } from './management/guard.ts';
import { installInvitations } from './management/invitations.ts';
import { installOrganizations } from './management/organizations.ts';
import { installTickets } from './management/tickets.ts';
import { installUsers } from './management/users.ts';
import { installDiscovery } from './routes/discovery.ts';
import { installTicketPages } from './routes/ticket-pages.ts';
import { installToken } from './routes/token.ts';
import { installUserinfo } from './routes/userinfo.ts';
import { AuthState } from './state.ts';

export function buildAuthSimulator(config: AuthConfig, kit: { seed?: number; logLevel?: LogLevel }) {
  // the kit creates the clock at start(); until then (building the seed state) it is real time
  let clock: SimClock | undefined;
  const now = () => clock?.now() ?? Date.now();
  const keys = new KeyRing({ alg: config.signingAlg, graceMs: config.keyGracePeriodMs, nowMs: now() });
  const state = new AuthState(config, keys, now);
  let deps: AuthDeps | undefined;
  const depsOf = (ctx: { clock: SimClock; seed: number; readonly url: string }): AuthDeps => {
    if (deps) return deps;
    clock = ctx.clock;
    state.useSeed(ctx.seed);
    // seed timestamps on the simulator clock, which may have been set to start in 2030
    state.reset();
    deps = {
      config,
      state,
      clock: ctx.clock,
      jwt: new Jwt(keys, ctx.clock, () => `${ctx.url}/`),
      url: () => ctx.url,
      managementAudience: () => `${ctx.url}/api/v2/`,
    };
    return deps;
  };
  return new Simulator({
    name: 'auth',
    state,
    ...kit,
    clock: config.clock,
    vendor: auth0VendorResponses,
    // fault rules can single out one application by its client_id
    tenant: (req) => (req.path === '/oauth/token' ? clientIdOf(req, bodyOf(req)) : undefined),
  })
    .withRoutes((router, ctx) => {
      const d = depsOf(ctx);
      installDiscovery(router, d);
      installToken(router, d);
      installUserinfo(router, d);
      installTicketPages(router, d);
      router.get('/login', (_req, res) => {
        res
          .type('text')
          .send(
            'The auth simulator has no login page: accept an invitation with POST /_sim/invitations/{id}/accept.\n',
          );
      });
    })
    .withRoutes((router, ctx) => {
      const d = depsOf(ctx);
      router.use('/api/v2', requireManagementToken(d));
      installUsers(router, d);
      installTickets(router, d);
      installOrganizations(router, d);
      installInvitations(router, d);
    })
    .withAdminRoutes((router, ctx) => installAuthAdmin(router, depsOf(ctx)));
}
