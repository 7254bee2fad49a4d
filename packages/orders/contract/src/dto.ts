import { Type, type Static } from 'typebox';
import { FreeText, IdempotencyKey, Uuid } from '@shop/contract-kit';


export const OrderStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('confirmed'),
  Type.Literal('shipped'),
  Type.Literal('delivered'),
  Type.Literal('cancelled'),
]);
export type OrderStatus = Static<typeof OrderStatus>;

export const OrderItem = Type.Object({
  product_id: Uuid,
  quantity: Type.Integer({ minimum: 1 }),
  unit_price_cents: Type.Integer({ minimum: 0 }),
}, { $id: 'OrderItem' });
export type OrderItem = Static<typeof OrderItem>;

export const Order = Type.Object({
  id: Uuid,
  customer_id: Uuid,
  status: OrderStatus,
  items: Type.Array(OrderItem),
  total_cents: Type.Integer({ minimum: 0 }),
  cancel_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}, { $id: 'Order' });
export type Order = Static<typeof Order>;

/** Limits a single order may reach; beyond them the input is rejected as invalid. */
export const ORDER_LIMITS = { maxItems: 100, maxQuantity: 10_000 } as const;

export const OrderLineInput = Type.Object(
  {
    product_id: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: ORDER_LIMITS.maxQuantity }),
  },
  { additionalProperties: false },
);
export type OrderLineInput = Static<typeof OrderLineInput>;

/** Body of `POST /api/orders`. The key may come as this field or the `Idempotency-Key` header. */
export const CreateOrderBody = Type.Object(
  {
    customer_id: Type.Optional(Uuid),
    items: Type.Array(OrderLineInput, { minItems: 1, maxItems: ORDER_LIMITS.maxItems }),
    idempotency_key: Type.Optional(IdempotencyKey),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const CancelOrderBody = Type.Object(
  { reason: Type.Optional(FreeText({ maxLength: 500 })) },
  { additionalProperties: false },
);
export type CancelOrderBody = Static<typeof CancelOrderBody>;
