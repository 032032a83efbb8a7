// Customers and payment methods: `/v1/customers`, `/v1/payment_methods` (+ attach, detach).
import type { StripeState } from '../state.ts';
import type { Api } from './api.ts';

export function customerRoutes(api: Api, stripe: StripeState): void {
  const { customers, paymentMethods } = stripe;
  api.post('/v1/customers', ({ params, request }) => customers.create(params, request));
  api.get('/v1/customers', ({ params }) => customers.list(params));
  api.get('/v1/customers/:id', ({ id, params }) => customers.retrieve(id, params));
  api.post('/v1/customers/:id', ({ id, params, request }) => customers.update(id, params, request));
  api.del('/v1/customers/:id', ({ id, request }) => customers.del(id, request));
  api.get('/v1/customers/:id/payment_methods', ({ id, params }) => customers.listPaymentMethods(id, params));

  api.post('/v1/payment_methods', ({ params, request }) => paymentMethods.create(params, request));
  api.get('/v1/payment_methods', ({ params }) => paymentMethods.list(params));
  api.get('/v1/payment_methods/:id', ({ id, params }) => paymentMethods.retrieve(id, params));
  api.post('/v1/payment_methods/:id', ({ id, params, request }) =>
    paymentMethods.update(id, params, request),
  );
  api.post('/v1/payment_methods/:id/attach', ({ id, params, request }) =>
    paymentMethods.attach(id, params, request),
  );
  api.post('/v1/payment_methods/:id/detach', ({ id, params, request }) =>
    paymentMethods.detach(id, params, request),
  );
}
