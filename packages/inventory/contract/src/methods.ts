import type { MethodTable } from '@shop/contract-kit';
import type { InventoryApi } from './api.ts';

/** What each InventoryApi method does to state: what may be retried and shadowed. */
export const InventoryMethods = {
  createProduct: 'write', // idempotent only when a key is given, so not declared so
  getProduct: 'read',
  getProducts: 'read',
  listProducts: 'read',
  adjustStock: 'write',
  listReservations: 'read',
} as const satisfies MethodTable<InventoryApi>;
