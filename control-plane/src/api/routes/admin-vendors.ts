// The operator's vendor check: is each configured vendor reachable with the configured
// credentials? One read-only call per vendor (no side effect); email and SMS are only reported as
// configured, since any call there sends something.
import type { Api } from '../route.ts';
import { z } from '../zod.ts';

const check = z.object({
  configured: z.boolean(),
  reachable: z
    .boolean()
    .nullable()
    .describe('null: not checked (not configured, or no read-only call exists)'),
  error: z.string().nullable(),
  ms: z.number().nullable(),
});

export function registerAdminVendorRoutes(api: Api): void {
  api.route({
    method: 'get',
    path: '/v1/admin/vendors',
    summary:
      'Which vendors are configured, and whether each answers a read-only call with the configured credentials',
    tags: ['admin'],
    access: { kind: 'admin' },
    response: {
      status: 200,
      schema: z
        .object({ stripe: check, salesforce: check, auth: check, email: check, sms: check })
        .openapi('VendorChecks'),
    },
    handler: async ({ deps }) => {
      const { stripe, salesforce, auth, email, sms } = deps.vendors;
      const probe = async (configured: boolean, call: () => Promise<unknown>) => {
        if (!configured) return { configured, reachable: null, error: null, ms: null };
        const began = performance.now();
        try {
          await call();
          return { configured, reachable: true, error: null, ms: Math.round(performance.now() - began) };
        } catch (error) {
          return {
            configured,
            reachable: false,
            error: (error as Error).message.slice(0, 500),
            ms: Math.round(performance.now() - began),
          };
        }
      };
      const [stripeCheck, salesforceCheck, authCheck] = await Promise.all([
        probe(stripe !== undefined, () => stripe!.customers.list({ limit: 1 })),
        probe(salesforce !== undefined, () =>
          salesforce!.run(async (connection) => connection.query('SELECT Id FROM Account LIMIT 1')),
        ),
        probe(auth !== undefined, () => auth!.users.list({ per_page: 1 })),
      ]);
      const unchecked = (configured: boolean) => ({ configured, reachable: null, error: null, ms: null });
      return {
        stripe: stripeCheck,
        salesforce: salesforceCheck,
        auth: authCheck,
        email: unchecked(email !== undefined),
        sms: unchecked(sms !== undefined),
      };
    },
  });
}
