import type { InventoryApi, Product } from '@shop/inventory-contract';

/**
 * The one question notifications asks inventory: product names. A stand-in, since a module
 * test may not reach another module's implementation. `failing` makes every lookup throw.
 */
export function fakeInventory(names: Record<string, string>, options: { failing?: boolean } = {}): InventoryApi {
  const unused = () => Promise.reject(new Error('not used by notifications'));
  return {
    getProducts: async (ids) => {
      if (options.failing) throw new Error('inventory is unavailable');
      return ids.filter((id) => id in names).map((id) => product(id, names[id]!));
    },
    createProduct: unused,
    getProduct: unused,
    listProducts: unused,
    adjustStock: unused,
    listReservations: unused,
  };
}

function product(id: string, name: string): Product {
  return { id, sku: `SKU-${id.slice(0, 8)}`, name, price_cents: 0, stock_quantity: 0, reserved_quantity: 0, rating_average: null, review_count: 0, created_at: new Date(0).toISOString() };
}
