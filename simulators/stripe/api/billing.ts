import { payInvoice } from '../objects/invoice-payment.ts';
import { listInvoiceLines, listInvoices, requireInvoice, voidInvoice } from '../objects/invoices.ts';
import {
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  listPaymentIntents,
  requirePaymentIntent,
  updatePaymentIntent,
} from '../objects/payment-intents.ts';
import { createPrice, listPrices, requirePrice, updatePrice } from '../objects/prices.ts';
import {
  createProduct,
  deleteProduct,
  listProducts,
  requireProduct,
  updateProduct,
} from '../objects/products.ts';
import { updateSubscription } from '../objects/subscription-update.ts';
import {
  cancelSubscription,
  createSubscription,
  listSubscriptions,
  requireSubscription,
} from '../objects/subscriptions.ts';
import type { Params } from '../params.ts';
import type { CurrentSim, Render } from '../state.ts';
import type { RequestContext } from '../store.ts';

/** Products, prices, subscriptions, invoices and payment intents. */
export function billingApi(sim: CurrentSim, render: Render) {
  return {
    products: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createProduct(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(requireProduct(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updateProduct(sim(), id, params, request), params),
      del: (id: string, request?: RequestContext) => render(deleteProduct(sim(), id, request)),
      list: (params: Params = {}) => render(listProducts(sim(), params), params),
    },
    prices: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createPrice(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(requirePrice(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updatePrice(sim(), id, params, request), params),
      list: (params: Params = {}) => render(listPrices(sim(), params), params),
    },
    subscriptions: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createSubscription(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(requireSubscription(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updateSubscription(sim(), id, params, request), params),
      /** `DELETE /v1/subscriptions/:id`. */
      cancel: (id: string, params: Params = {}, request?: RequestContext) =>
        render(cancelSubscription(sim(), id, params, request), params),
      list: (params: Params = {}) => render(listSubscriptions(sim(), params), params),
    },
    invoices: {
      retrieve: (id: string, params: Params = {}) => render(requireInvoice(sim(), id), params),
      list: (params: Params = {}) => render(listInvoices(sim(), params), params),
      pay: (id: string, params: Params = {}, request?: RequestContext) =>
        render(payInvoice(sim(), id, params, request), params),
      voidInvoice: (id: string, params: Params = {}, request?: RequestContext) =>
        render(voidInvoice(sim(), id, request), params),
      listLines: (id: string, params: Params = {}) => render(listInvoiceLines(sim(), id, params), params),
    },
    paymentIntents: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createPaymentIntent(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(requirePaymentIntent(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updatePaymentIntent(sim(), id, params, request), params),
      confirm: (id: string, params: Params = {}, request?: RequestContext) =>
        render(confirmPaymentIntent(sim(), id, params, request), params),
      cancel: (id: string, params: Params = {}, request?: RequestContext) =>
        render(cancelPaymentIntent(sim(), id, params, request), params),
      list: (params: Params = {}) => render(listPaymentIntents(sim(), params), params),
    },
  };
}
