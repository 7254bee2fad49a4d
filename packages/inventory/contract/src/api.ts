import type { PageResult } from '@shop/contract-kit';
import type { AdjustStockInput, CreateProductInput, Product, Reservation } from './dto.ts';

export interface CreateProductResult {
  product: Product;
  /** false when an earlier request with the same idempotency key created it. */
  created: boolean;
}

/**
 * Everything another module may ask of inventory. Implemented in process by the module and
 * over HTTP by its client: both throw the same `ModuleError` codes (see `InventoryErrors`).
 */
export interface InventoryApi {
  /**
   * Adds a product to the catalog. Throws `sku_conflict` when the SKU exists. With an
   * idempotency key, a retry with the same payload returns the first product
   * (`created: false`); with another payload it throws `idempotency_key_reused`.
   */
  createProduct(input: CreateProductInput, options?: { idempotency_key?: string }): Promise<CreateProductResult>;
  /** Throws `product_not_found`. */
  getProduct(id: string): Promise<Product>;
  /**
   * The products with these ids, in no particular order; unknown ids are left out, so the
   * caller can tell which are missing. Used by orders to read catalog prices.
   */
  getProducts(ids: readonly string[]): Promise<Product[]>;
  /** The catalog, newest first, 20 a page. */
  listProducts(page: number): Promise<PageResult<Product>>;
  /**
   * Changes the stock on hand by `delta`. Throws `insufficient_stock` when the stock would
   * fall below what is reserved, `product_not_found` for an unknown product.
   */
  adjustStock(productId: string, input: AdjustStockInput): Promise<Product>;
  /** The reservations held for an order (any status), oldest first. */
  listReservations(orderId: string): Promise<Reservation[]>;
}
