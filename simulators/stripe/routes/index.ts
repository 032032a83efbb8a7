// Every /v1 route of the Stripe simulator, behind Stripe's authentication.
import type { Router } from 'express';
import { type ApiDeps, createApi } from './api.ts';
import { authenticate } from './auth.ts';
import { billingRoutes } from './billing.ts';
import { customerRoutes } from './customers.ts';
import { platformRoutes } from './platform.ts';

/** Installs the API on `router`: unknown /v1 paths still need a key, as in Stripe. */
export function installApi(router: Router, deps: ApiDeps): void {
  router.use('/v1', authenticate());
  const api = createApi(router, deps);
  customerRoutes(api, deps.state.stripe);
  billingRoutes(api, deps.state.stripe);
  platformRoutes(api, deps.state.stripe, { allowExternalWebhooks: deps.allowExternalWebhooks });
}

export { installAdmin } from './admin.ts';
export type { ApiDeps } from './api.ts';
