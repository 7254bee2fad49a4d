import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';
import { OrderItem, OrderStatus } from './dto.ts';


/** A new order was accepted (status pending); inventory reserves its items next. */
export const OrderCreated = defineEvent(
  'OrderCreated',
  1,
  Type.Object({
    order_id: Uuid,
    customer_id: Uuid,
    items: Type.Array(OrderItem),
    total_cents: Type.Integer(),
  }),
);

/** Payment was captured: pending → confirmed. */
export const OrderConfirmed = defineEvent(
  'OrderConfirmed',
  1,
  Type.Object({ order_id: Uuid, customer_id: Uuid, total_cents: Type.Integer(), items: Type.Array(OrderItem) }),
);

/** The order was cancelled; its stock is released and a captured payment refunded. */
export const OrderCancelled = defineEvent(
  'OrderCancelled',
  1,
  Type.Object({
    order_id: Uuid,
    customer_id: Uuid,
    reason: Type.String(),
    previous_status: OrderStatus,
    items: Type.Array(OrderItem),
    total_cents: Type.Integer(),
  }),
);

/** confirmed → shipped: the reserved stock leaves for good. */
export const OrderShipped = defineEvent(
  'OrderShipped',
  1,
  Type.Object({ order_id: Uuid, customer_id: Uuid, items: Type.Array(OrderItem), total_cents: Type.Integer() }),
);

/** shipped → delivered. */
export const OrderDelivered = defineEvent('OrderDelivered', 1, Type.Object({ order_id: Uuid, customer_id: Uuid }));

export const OrderEvents = [OrderCreated, OrderConfirmed, OrderCancelled, OrderShipped, OrderDelivered] as const;
