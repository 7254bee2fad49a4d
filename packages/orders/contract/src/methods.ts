import type { MethodTable } from '@shop/contract-kit';
import type { OrdersApi } from './api.ts';

/** What each OrdersApi method does to state: what may be retried and shadowed. */
export const OrdersMethods = {
  createOrder: 'idempotent-write', // the idempotency key makes a repeat return the first order
  getOrder: 'read',
  listOrdersForCustomer: 'read',
  cancelOrder: 'write',
  confirmOrder: 'idempotent-write', // confirming a confirmed order is a no-op
  shipOrder: 'write',
  deliverOrder: 'write',
} as const satisfies MethodTable<OrdersApi>;
