// Products, prices, subscriptions (DELETE cancels), invoices (+ pay, void, lines) and payment
// intents (+ confirm, cancel).
import type { StripeState } from '../state.ts';
import type { Api } from './api.ts';

export function billingRoutes(api: Api, stripe: StripeState): void {
  const { products, prices, subscriptions, invoices, paymentIntents } = stripe;
  api.post('/v1/products', ({ params, request }) => products.create(params, request));
  api.get('/v1/products', ({ params }) => products.list(params));
  api.get('/v1/products/:id', ({ id, params }) => products.retrieve(id, params));
  api.post('/v1/products/:id', ({ id, params, request }) => products.update(id, params, request));
  api.del('/v1/products/:id', ({ id, request }) => products.del(id, request));

  api.post('/v1/prices', ({ params, request }) => prices.create(params, request));
  api.get('/v1/prices', ({ params }) => prices.list(params));
  api.get('/v1/prices/:id', ({ id, params }) => prices.retrieve(id, params));
  api.post('/v1/prices/:id', ({ id, params, request }) => prices.update(id, params, request));

  api.post('/v1/subscriptions', ({ params, request }) => subscriptions.create(params, request));
  api.get('/v1/subscriptions', ({ params }) => subscriptions.list(params));
  api.get('/v1/subscriptions/:id', ({ id, params }) => subscriptions.retrieve(id, params));
  api.post('/v1/subscriptions/:id', ({ id, params, request }) => subscriptions.update(id, params, request));
  api.del('/v1/subscriptions/:id', ({ id, params, request }) => subscriptions.cancel(id, params, request));

  api.get('/v1/invoices', ({ params }) => invoices.list(params));
  api.get('/v1/invoices/:id', ({ id, params }) => invoices.retrieve(id, params));
  api.get('/v1/invoices/:id/lines', ({ id, params }) => invoices.listLines(id, params));
  api.post('/v1/invoices/:id/pay', ({ id, params, request }) => invoices.pay(id, params, request));
  api.post('/v1/invoices/:id/void', ({ id, params, request }) => invoices.voidInvoice(id, params, request));

  api.post('/v1/payment_intents', ({ params, request }) => paymentIntents.create(params, request));
  api.get('/v1/payment_intents', ({ params }) => paymentIntents.list(params));
  api.get('/v1/payment_intents/:id', ({ id, params }) => paymentIntents.retrieve(id, params));
  api.post('/v1/payment_intents/:id', ({ id, params, request }) =>
    paymentIntents.update(id, params, request),
  );
  api.post('/v1/payment_intents/:id/confirm', ({ id, params, request }) =>
    paymentIntents.confirm(id, params, request),
  );
  api.post('/v1/payment_intents/:id/cancel', ({ id, params, request }) =>
    paymentIntents.cancel(id, params, request),
  );
}
