import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import {
  InventoryErrors,
  type AdjustStockInput,
  type CreateProductInput,
  type CreateProductResult,
  type InventoryApi,
  type Product,
  type Reservation,
} from '@shop/inventory-contract';
import { fingerprint, invalidInput, isUniqueViolation } from '@shop/platform';
import { MAX_STOCK, stockAfter } from './domain.ts';
import * as repo from './repository.ts';

/** The inventory module's interface, in process. */
export class InventoryService implements InventoryApi {
  readonly #db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.#db = db;
  }

  async createProduct(input: CreateProductInput, options: { idempotency_key?: string } = {}): Promise<CreateProductResult> {
    const key = options.idempotency_key ?? null;
    const request = { idempotency_key: key, request_hash: key ? fingerprint(input) : null };
    try {
      const { created, row } = await repo.createProduct(this.#db, { id: randomUUID(), ...input, ...request });
      return { product: repo.toProduct(row), created };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A racing retry with the same key can lose on the SKU's unique index before the key's
      // (the insert arbitrates only the key): that is a replay, not a conflict.
      const raced = key ? await repo.findByIdempotencyKey(this.#db, request) : undefined;
      if (!raced) throw new ModuleError(InventoryErrors.skuConflict, `a product with sku "${input.sku}" already exists`);
      return { product: repo.toProduct(raced), created: false };
    }
  }

  async getProduct(id: string): Promise<Product> {
    const row = await repo.findProduct(this.#db, id);
    if (!row) throw notFound(id);
    return repo.toProduct(row);
  }

  async getProducts(ids: readonly string[]): Promise<Product[]> {
    return (await repo.findProducts(this.#db, ids)).map(repo.toProduct);
  }

  async listProducts(page: number): Promise<PageResult<Product>> {
    return repo.listProducts(this.#db, page);
  }

  async adjustStock(productId: string, input: AdjustStockInput): Promise<Product> {
    const row = await repo.adjustStock(this.#db, productId, input.delta, MAX_STOCK);
    if (row) return repo.toProduct(row);
    const current = await repo.findProduct(this.#db, productId);
    if (!current) throw notFound(productId);
    const verdict = stockAfter(current, input.delta);
    if (!verdict.ok && verdict.reason === 'above_max') throw invalidInput('body.delta', `stock would exceed ${MAX_STOCK}`);
    throw new ModuleError(
      InventoryErrors.insufficientStock,
      `stock would fall to ${current.stock_quantity + input.delta}, below the ${current.reserved_quantity} reserved`,
      { stock_quantity: current.stock_quantity, reserved_quantity: current.reserved_quantity },
    );
  }

  async listReservations(orderId: string): Promise<Reservation[]> {
    return repo.listReservations(this.#db, orderId);
  }
}

function notFound(id: string): ModuleError {
  return new ModuleError(InventoryErrors.productNotFound, `no product with id ${id}`);
}
