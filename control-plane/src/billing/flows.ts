// The billing flows, as flows/definitions/index.ts registers them (one line there).
import type { Config } from '../config.ts';
import type { FlowDefinition } from '../flows/definition.ts';
import { billingSetupFlow, updatePaymentMethodFlow } from '../flows/definitions/billing-setup.ts';
import { dunningFlow } from '../flows/definitions/dunning.ts';
import { planChangeFlow } from '../flows/definitions/plan-change.ts';
import type { Vendors } from '../vendors/index.ts';

/** When no `invoice.paid` webhook comes, a dunning flow asks Stripe again this often. */
const paymentRecheckMs = 3_600_000;

export function billingFlows(config: Config, vendors: Vendors): FlowDefinition<never>[] {
  return [
    billingSetupFlow(vendors),
    updatePaymentMethodFlow(vendors),
    dunningFlow(vendors, {
      gracePeriodMs: config.BILLING_GRACE_PERIOD_MS,
      confirmTimeoutMs: config.PROVISION_TIMEOUT_MS,
      paymentRecheckMs,
      appUrl: config.APP_URL,
    }),
    planChangeFlow(vendors, { confirmTimeoutMs: config.PROVISION_TIMEOUT_MS }),
  ] as FlowDefinition<never>[];
}
