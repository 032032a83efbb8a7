import {
  createCustomer,
  deleteCustomer,
  listCustomers,
  retrieveCustomer,
  updateCustomer,
} from '../objects/customers.ts';
import {
  attachPaymentMethod,
  createPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  resolvePaymentMethod,
  updatePaymentMethod,
} from '../objects/payment-methods.ts';
import { type Params, readString } from '../params.ts';
import type { CurrentSim, Render } from '../state.ts';
import type { RequestContext } from '../store.ts';

/** Customers and their payment methods. */
export function customersApi(sim: CurrentSim, render: Render) {
  return {
    customers: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createCustomer(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(retrieveCustomer(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updateCustomer(sim(), id, params, request), params),
      del: (id: string, request?: RequestContext) => render(deleteCustomer(sim(), id, request)),
      list: (params: Params = {}) => render(listCustomers(sim(), params), params),
      /** `GET /v1/customers/:id/payment_methods`. */
      listPaymentMethods: (id: string, params: Params = {}) =>
        render(
          listPaymentMethods(sim(), { ...params, customer: id }, `/v1/customers/${id}/payment_methods`),
          params,
        ),
    },
    paymentMethods: {
      create: (params: Params = {}, request?: RequestContext) =>
        render(createPaymentMethod(sim(), params, request), params),
      retrieve: (id: string, params: Params = {}) => render(resolvePaymentMethod(sim(), id), params),
      update: (id: string, params: Params = {}, request?: RequestContext) =>
        render(updatePaymentMethod(sim(), id, params, request), params),
      /** `POST /v1/payment_methods/:id/attach` with `customer`. */
      attach: (id: string, params: Params = {}, request?: RequestContext) =>
        render(attachPaymentMethod(sim(), id, readString(params, 'customer', true), request), params),
      detach: (id: string, params: Params = {}, request?: RequestContext) =>
        render(detachPaymentMethod(sim(), id, request), params),
      list: (params: Params = {}) => render(listPaymentMethods(sim(), params), params),
    },
  };
}
