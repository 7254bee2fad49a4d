import { Type } from 'typebox';
import { EDGE, defineContract, FreeText, IdempotencyKey, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { OrdersApi } from './api.ts';
import { ORDER_LIMITS, OrderLineInput } from './dto.ts';

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

/** `createOrder`'s command: the checked body of `POST /api/orders`, with the customer and key settled. */
const CreateOrderCommand = Type.Object(
  {
    customer_id: Uuid,
    items: Type.Array(OrderLineInput, { minItems: 1, maxItems: ORDER_LIMITS.maxItems }),
    idempotency_key: IdempotencyKey,
  },
  { additionalProperties: false },
);
const Page = Type.Integer({ minimum: 0 });

/**
 * Who may call each OrdersApi method from another process, and its argument schemas. The edge
 * serves orders' routes; payments reads the order it charges. Nobody confirms an order
 * remotely: orders confirms its own on `PaymentCaptured`.
 */
export const OrdersAccess = {
  createOrder: { callers: [EDGE], args: [CreateOrderCommand] },
  getOrder: { callers: [EDGE, 'payments'], args: [Uuid] },
  listOrdersForCustomer: { callers: [EDGE], args: [Uuid, Page] },
  cancelOrder: { callers: [EDGE], args: [Uuid, FreeText({ maxLength: 500 })] },
  confirmOrder: { callers: [], args: [Uuid] },
  shipOrder: { callers: [EDGE], args: [Uuid] },
  deliverOrder: { callers: [EDGE], args: [Uuid] },
} as const satisfies AccessTable<OrdersApi>;

/** The orders module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const OrdersContract = defineContract<OrdersApi>({
  name: 'orders',
  description: 'Orders and their lifecycle: pending → confirmed → shipped → delivered, or cancelled (module orders).',
  methods: OrdersMethods, access: OrdersAccess });
