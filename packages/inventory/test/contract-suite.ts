import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '@shop/contract-kit';
import { InventoryErrors, type InventoryApi, type Product } from '@shop/inventory-contract';
import type { OrdersApi } from '@shop/orders-contract';
import { RFC3339, PlatformErrors, eventually, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the inventory suite uses: inventory's, and orders' to make reservations happen. */
export interface InventoryContractApis {
  readonly inventory: InventoryApi;
  readonly orders: OrdersApi;
}

const uniqueSku = (prefix = 'CT-INV') => `${prefix}-${randomUUID().slice(0, 13)}`;

/**
 * The contract of `InventoryApi`, written once and run against every implementation of it:
 * the module in process, and its HTTP client talking to a process that hosts it. Every method,
 * its answers and its errors (code, status, title, detail, extensions) must be the same.
 */
export function inventoryContractSuite(name: string, target: () => ContractTarget<InventoryContractApis>): void {
  describe(`InventoryApi contract (${name})`, () => {
    const inventory = () => target().apis.inventory;
    const newProduct = async (stock_quantity = 10, price_cents = 1_999) =>
      (await inventory().createProduct({ sku: uniqueSku(), name: 'Contract mug', price_cents, stock_quantity })).product;

    it('createProduct answers the new product, and getProduct answers the same product', async () => {
      const sku = uniqueSku();
      const result = await inventory().createProduct({ sku, name: 'Contract mug', price_cents: 1_250, stock_quantity: 7 });
      expect(result).toEqual({
        created: true,
        product: {
          id: expect.any(String), sku, name: 'Contract mug', price_cents: 1_250, stock_quantity: 7, reserved_quantity: 0,
          rating_average: null, review_count: 0, created_at: expect.stringMatching(RFC3339),
        },
      });
      expect(Object.keys(result.product).sort()).toEqual(['created_at', 'id', 'name', 'price_cents', 'rating_average', 'reserved_quantity', 'review_count', 'sku', 'stock_quantity']);
      expect(await inventory().getProduct(result.product.id)).toEqual(result.product);
    });

    it('createProduct accepts a zero price and zero stock', async () => {
      const { product } = await inventory().createProduct({ sku: uniqueSku(), name: 'Free sample', price_cents: 0, stock_quantity: 0 });
      expect(product).toMatchObject({ price_cents: 0, stock_quantity: 0, reserved_quantity: 0 });
    });

    it('createProduct throws sku_conflict for an existing SKU, and creates nothing', async () => {
      const first = await newProduct();
      await expectModuleError(inventory().createProduct({ sku: first.sku, name: 'Another', price_cents: 1, stock_quantity: 1 }), InventoryErrors.skuConflict, {
        detail: new RegExp(`"${first.sku}"`),
      });
      expect(await inventory().getProduct(first.id)).toEqual(first);
    });

    it('createProduct with an idempotency key: a replay answers the first product (created: false)', async () => {
      const key = randomUUID();
      const input = { sku: uniqueSku(), name: 'Idempotent mug', price_cents: 500, stock_quantity: 3 };
      const first = await inventory().createProduct(input, { idempotency_key: key });
      expect(first.created).toBe(true);
      const again = await inventory().createProduct(input, { idempotency_key: key });
      expect(again).toEqual({ created: false, product: first.product });
    });

    it('createProduct retried concurrently with one key makes one product', async () => {
      const key = randomUUID();
      const input = { sku: uniqueSku(), name: 'Racing mug', price_cents: 500, stock_quantity: 3 };
      const results = await Promise.all(Array.from({ length: 5 }, () => inventory().createProduct(input, { idempotency_key: key })));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.product.id)).size).toBe(1);
    });

    it('createProduct with a used idempotency key and another payload throws idempotency_key_reused', async () => {
      const key = randomUUID();
      const input = { sku: uniqueSku(), name: 'Idempotent mug', price_cents: 500, stock_quantity: 3 };
      await inventory().createProduct(input, { idempotency_key: key });
      await expectModuleError(inventory().createProduct({ ...input, price_cents: 501 }, { idempotency_key: key }), InventoryErrors.idempotencyKeyReused);
    });

    it('createProduct without options and with empty options behaves alike (no key, no replay)', async () => {
      const a = await inventory().createProduct({ sku: uniqueSku(), name: 'No key', price_cents: 1, stock_quantity: 1 }, {});
      expect(a.created).toBe(true);
      await expectModuleError(inventory().createProduct({ sku: a.product.sku, name: 'No key', price_cents: 1, stock_quantity: 1 }), InventoryErrors.skuConflict);
    });

    it('getProduct throws product_not_found naming the id', async () => {
      const id = randomUUID();
      await expectModuleError(inventory().getProduct(id), InventoryErrors.productNotFound, { detail: new RegExp(id) });
    });

    it('getProducts answers the known products and leaves unknown ids out', async () => {
      const a = await newProduct();
      const b = await newProduct();
      const found = await inventory().getProducts([a.id, randomUUID(), b.id]);
      expect(found.sort((x, y) => x.id.localeCompare(y.id))).toEqual([a, b].sort((x, y) => x.id.localeCompare(y.id)));
      expect(await inventory().getProducts([randomUUID()])).toEqual([]);
      expect(await inventory().getProducts([])).toEqual([]);
    });

    it('listProducts pages the catalog newest first: {items, has_more}, 20 a page', async () => {
      const made: Product[] = [];
      for (let i = 0; i < PAGE_SIZE + 1; i += 1) made.push(await newProduct());
      const first = await inventory().listProducts(0);
      expect(Object.keys(first).sort()).toEqual(['has_more', 'items']);
      expect(first.items).toHaveLength(PAGE_SIZE);
      expect(first.has_more).toBe(true);
      // Newest first: the last one made leads (nothing else writes products meanwhile).
      expect(first.items[0]).toEqual(made.at(-1));
      const times = first.items.map((product) => product.created_at);
      expect([...times].sort().reverse()).toEqual(times);
      const second = await inventory().listProducts(1);
      expect(second.items[0]).toEqual(made[0]);
      expect(first.items.map((p) => p.id)).not.toContain(second.items[0]!.id);
      expect(await inventory().listProducts(1_000_000)).toEqual({ items: [], has_more: false });
    });

    it('adjustStock changes the stock on hand, up and down', async () => {
      const product = await newProduct(5);
      expect(await inventory().adjustStock(product.id, { delta: 3 })).toEqual({ ...product, stock_quantity: 8 });
      expect(await inventory().adjustStock(product.id, { delta: -8 })).toEqual({ ...product, stock_quantity: 0 });
      expect(await inventory().adjustStock(product.id, { delta: 0 })).toEqual({ ...product, stock_quantity: 0 });
      expect(await inventory().getProduct(product.id)).toEqual({ ...product, stock_quantity: 0 });
    });

    it('adjustStock throws insufficient_stock when the stock would fall below what is reserved, with the counts', async () => {
      const product = await newProduct(5);
      await expectModuleError(inventory().adjustStock(product.id, { delta: -6 }), InventoryErrors.insufficientStock, {
        detail: /below the 0 reserved/,
        extensions: { stock_quantity: 5, reserved_quantity: 0 },
      });
      // Reserved stock counts: an order holds 3, so at most 2 may go.
      const order = await target().apis.orders.createOrder({ customer_id: randomUUID(), items: [{ product_id: product.id, quantity: 3 }], idempotency_key: randomUUID() });
      await eventually(async () => expect((await inventory().getProduct(product.id)).reserved_quantity).toBe(3));
      await expectModuleError(inventory().adjustStock(product.id, { delta: -3 }), InventoryErrors.insufficientStock, {
        detail: /stock would fall to 2, below the 3 reserved/,
        extensions: { stock_quantity: 5, reserved_quantity: 3 },
      });
      expect(await inventory().adjustStock(product.id, { delta: -2 })).toMatchObject({ stock_quantity: 3, reserved_quantity: 3 });
      expect(order.created).toBe(true);
    });

    it('adjustStock above the maximum throws invalid_input naming the field', async () => {
      const product = await newProduct(5);
      await expectModuleError(inventory().adjustStock(product.id, { delta: 1_000_000_000 }), PlatformErrors.invalidInput, {
        detail: /^body\.delta: /,
        extensions: { errors: [{ field: 'body.delta', message: expect.any(String) }] },
      });
    });

    it('adjustStock throws product_not_found for an unknown product', async () => {
      const id = randomUUID();
      await expectModuleError(inventory().adjustStock(id, { delta: 1 }), InventoryErrors.productNotFound, { detail: new RegExp(id) });
    });

    it('listReservations answers the reservations of an order, and none for an unknown order', async () => {
      const a = await newProduct(10);
      const b = await newProduct(10);
      const { order } = await target().apis.orders.createOrder({
        customer_id: randomUUID(),
        items: [
          { product_id: a.id, quantity: 2 },
          { product_id: b.id, quantity: 1 },
        ],
        idempotency_key: randomUUID(),
      });
      const reservations = await eventually(async () => {
        const found = await inventory().listReservations(order.id);
        expect(found).toHaveLength(2);
        return found;
      });
      expect(reservations.sort((x, y) => x.product_id.localeCompare(y.product_id))).toEqual(
        [
          { product_id: a.id, quantity: 2 },
          { product_id: b.id, quantity: 1 },
        ]
          .sort((x, y) => x.product_id.localeCompare(y.product_id))
          .map((line) => ({ id: expect.any(String), order_id: order.id, ...line, status: 'active', created_at: expect.stringMatching(RFC3339) })),
      );
      expect(await inventory().listReservations(randomUUID())).toEqual([]);
    });
  });
}
