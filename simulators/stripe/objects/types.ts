import type { Metadata } from '../metadata.ts';
import type { Interval } from '../time.ts';

// The object shapes the simulator keeps and answers. They follow Stripe's (API version endive)
// field names; fields that only a feature we do not simulate would fill are left out. Where a
// newer API version moved a field (the subscription period, an invoice's subscription and payment
// intent), both places are filled, so clients pinned to older versions read what they expect.

export type * from './billing-types.ts';

/** An id, or the object it names once `expand[]` asked for it. */
export type Ref<T> = string | T;

/** A list as Stripe answers it. */
export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export interface Base {
  id: string;
  created: number;
  livemode: false;
}

export interface Customer extends Base {
  object: 'customer';
  address: null;
  balance: number;
  currency: string | null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: {
    custom_fields: null;
    default_payment_method: Ref<PaymentMethod> | null;
    footer: null;
    rendering_options: null;
  };
  metadata: Metadata;
  name: string | null;
  next_invoice_sequence: number;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
  test_clock: Ref<TestClock> | null;
}

export interface DeletedObject {
  id: string;
  object: string;
  deleted: true;
}

export interface CardDetails {
  brand: string;
  checks: { address_line1_check: null; address_postal_code_check: null; cvc_check: 'pass' | null };
  country: string;
  display_brand: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: string;
  generated_from: null;
  last4: string;
  networks: { available: string[]; preferred: null };
  regulated_status: 'unregulated';
  three_d_secure_usage: { supported: boolean };
  wallet: null;
}

export interface BillingDetails {
  address: {
    city: string | null;
    country: string | null;
    line1: string | null;
    line2: string | null;
    postal_code: string | null;
    state: string | null;
  };
  email: string | null;
  name: string | null;
  phone: string | null;
}

export interface PaymentMethod extends Base {
  object: 'payment_method';
  allow_redisplay: 'unspecified';
  billing_details: BillingDetails;
  card: CardDetails;
  customer: Ref<Customer> | null;
  metadata: Metadata;
  type: 'card';
}

export interface Product extends Base {
  object: 'product';
  active: boolean;
  default_price: Ref<Price> | null;
  description: string | null;
  images: string[];
  marketing_features: unknown[];
  metadata: Metadata;
  name: string;
  package_dimensions: null;
  shippable: null;
  statement_descriptor: string | null;
  tax_code: null;
  type: 'service';
  unit_label: string | null;
  updated: number;
  url: string | null;
}

export interface Recurring {
  interval: Interval;
  interval_count: number;
  meter: null;
  trial_period_days: number | null;
  usage_type: 'licensed';
}

export interface Price extends Base {
  object: 'price';
  active: boolean;
  billing_scheme: 'per_unit';
  currency: string;
  custom_unit_amount: null;
  lookup_key: string | null;
  metadata: Metadata;
  nickname: string | null;
  product: Ref<Product>;
  recurring: Recurring | null;
  tax_behavior: 'unspecified';
  tiers_mode: null;
  transform_quantity: null;
  type: 'one_time' | 'recurring';
  unit_amount: number;
  unit_amount_decimal: string;
}

export interface WebhookEndpoint extends Base {
  object: 'webhook_endpoint';
  api_version: string | null;
  application: null;
  description: string | null;
  enabled_events: string[];
  metadata: Metadata;
  /** Only on the answer to create, as in Stripe; kept apart otherwise. */
  secret?: string;
  status: 'enabled' | 'disabled';
  url: string;
}

export interface TestClock extends Base {
  object: 'test_helpers.test_clock';
  deletes_after: number;
  frozen_time: number;
  name: string | null;
  status: 'advancing' | 'ready' | 'internal_failure';
  status_details: { advancing?: { target_frozen_time: number } };
}

export interface StripeEvent extends Base {
  object: 'event';
  api_version: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}
