import { Type } from 'typebox';
import { EDGE, defineContract, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { InventoryApi } from './api.ts';
import { AdjustStockInput, CreateProductInput } from './dto.ts';

/** What each InventoryApi method does to state: what may be retried and shadowed. */
export const InventoryMethods = {
  createProduct: 'write', // idempotent only when a key is given, so not declared so
  getProduct: 'read',
  getProducts: 'read',
  listProducts: 'read',
  adjustStock: 'write',
  listReservations: 'read',
} as const satisfies MethodTable<InventoryApi>;

/** The edge keys a product by admin and key (`<admin>:<key>`), so it is longer than a client's key. */
const CreateProductOptions = Type.Object(
  { idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) },
  { additionalProperties: false },
);

/**
 * Who may call each InventoryApi method from another process, and its argument schemas. The
 * edge serves inventory's routes; orders reads prices, notifications product names, reviews
 * checks that a product exists before a review of it is posted.
 */
export const InventoryAccess = {
  createProduct: { callers: [EDGE], args: [CreateProductInput, Type.Optional(CreateProductOptions)] },
  getProduct: { callers: [EDGE, 'reviews'], args: [Uuid] },
  getProducts: { callers: ['orders', 'notifications'], args: [Type.Array(Uuid, { maxItems: 1_000 })] },
  listProducts: { callers: [EDGE], args: [Type.Integer({ minimum: 0 })] },
  adjustStock: { callers: [EDGE], args: [Uuid, AdjustStockInput] },
  listReservations: { callers: [EDGE], args: [Uuid] },
} as const satisfies AccessTable<InventoryApi>;

/** The inventory module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const InventoryContract = defineContract<InventoryApi>({
  name: 'inventory',
  description: 'Catalog, stock and the reservations an order holds (module inventory).',
  methods: InventoryMethods, access: InventoryAccess });
