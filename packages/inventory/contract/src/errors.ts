import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the inventory module, with the HTTP status each maps to. */
export const InventoryErrors = {
  productNotFound: { code: 'product_not_found', status: 404, title: 'Product not found' },
  skuConflict: { code: 'sku_conflict', status: 409, title: 'A product with this SKU already exists' },
  insufficientStock: { code: 'insufficient_stock', status: 409, title: 'Not enough stock' },
  idempotencyKeyReused: IdempotencyKeyReused,
} as const satisfies Record<string, ErrorSpec>;
