import { invalidRequest, invalidState, noSuch } from '../errors.ts';
import { applyMetadata } from '../metadata.ts';
import { newestFirst, paginate } from '../pagination.ts';
import {
  type Params,
  readBool,
  readHash,
  readNullableString,
  readString,
  readStringList,
} from '../params.ts';
import { atomically, copy, emit, nowFor, type RequestContext, type Sim } from '../store.ts';
import { createPrice } from './prices.ts';
import type { DeletedObject, Product } from './types.ts';

export function requireProduct(sim: Sim, id: string, param = 'id'): Product {
  const product = sim.products.get(id);
  if (!product) throw noSuch('product', id, param);
  return product;
}

function readDetails(product: Product, params: Params): void {
  for (const field of ['description', 'statement_descriptor', 'unit_label', 'url'] as const) {
    const value = readNullableString(params, field);
    if (value !== undefined) product[field] = value;
  }
  const images = readStringList(params, 'images');
  if (images) product.images = images;
}

/** `POST /v1/products`; a custom `id` is kept, as Stripe allows; `default_price_data` makes a price. */
export function createProduct(sim: Sim, params: Params, request?: RequestContext): Product {
  const id = readString(params, 'id') ?? sim.ids.next('prod');
  if (sim.products.has(id)) {
    throw invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
  }
  const now = nowFor(sim, null);
  const product: Product = {
    id,
    object: 'product',
    active: readBool(params, 'active') ?? true,
    created: now,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: applyMetadata({}, params),
    name: readString(params, 'name', true),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: now,
    url: null,
  };
  readDetails(product, params);
  sim.products.set(id, product);
  emit(sim, 'product.created', product, request);
  const priceData = readHash(params, 'default_price_data');
  if (Object.keys(priceData).length > 0) {
    const price = createPrice(sim, { ...priceData, product: id }, request);
    product.default_price = price.id;
  }
  return product;
}

export function updateProduct(sim: Sim, id: string, params: Params, request?: RequestContext): Product {
  const product = requireProduct(sim, id);
  const before = copy(product);
  atomically(product, () => {
    const name = readString(params, 'name');
    if (name !== undefined) product.name = name;
    product.active = readBool(params, 'active') ?? product.active;
    readDetails(product, params);
    product.metadata = applyMetadata(product.metadata, params);
    const defaultPrice = readNullableString(params, 'default_price');
    if (defaultPrice !== undefined) {
      if (defaultPrice !== null && sim.prices.get(defaultPrice)?.product !== id) {
        throw noSuch('price', defaultPrice, 'default_price');
      }
      product.default_price = defaultPrice;
    }
    product.updated = nowFor(sim, null);
  });
  emit(sim, 'product.updated', product, request, before);
  return product;
}

/** Only a product without prices can be deleted, as in Stripe (archive it with `active=false`). */
export function deleteProduct(sim: Sim, id: string, request?: RequestContext): DeletedObject {
  const product = requireProduct(sim, id);
  for (const price of sim.prices.values()) {
    if (price.product === id) {
      throw invalidState('This product cannot be deleted because it has one or more user-created prices.');
    }
  }
  sim.products.delete(id);
  emit(sim, 'product.deleted', product, request);
  return { id, object: 'product', deleted: true };
}

export function listProducts(sim: Sim, params: Params) {
  const active = readBool(params, 'active');
  const ids = readStringList(params, 'ids');
  const items = newestFirst(
    sim.products.values(),
    (product) =>
      (active === undefined || product.active === active) && (ids === undefined || ids.includes(product.id)),
  );
  return paginate(items, params, '/v1/products', 'product');
}
