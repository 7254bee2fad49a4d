import { Type, type Static } from 'typebox';
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

/** What was delivered, line by line: who bought what, for consumers such as reviews. */
export const DeliveredItem = Type.Object({ product_id: Uuid, quantity: Type.Integer({ minimum: 1 }) });
export type DeliveredItem = Static<typeof DeliveredItem>;

const orderDeliveredV1Fields = { order_id: Uuid, customer_id: Uuid };

/**
 * shipped → delivered, as version 1 carried it: no items. Kept for consumers that need only
 * the order and customer, and to read version 1 envelopes still in flight after the upgrade.
 */
export const OrderDeliveredV1 = defineEvent('OrderDelivered', 1, Type.Object(orderDeliveredV1Fields));

/**
 * shipped → delivered, with what was delivered: version 2 adds `items` (product and quantity)
 * to version 1's order and customer.
 *
 * How this event's versions evolve (the rule of every event, see contract-kit's `EventSpec`):
 * - a new version only adds fields, never renames, retypes or removes one: version 2 is
 *   version 1's fields spread in, plus `items`;
 * - an old consumer keeps working: `OrderDeliveredV1.payloadOf` reads a version 2 envelope
 *   (it carries everything version 1 did), so a consumer written against version 1 needs no
 *   change and no redeploy;
 * - a new consumer still meets version 1 envelopes after an upgrade (outbox rows written
 *   before it, a NATS stream not yet drained, a publisher not yet redeployed): subscriptions
 *   select by type, not version. `OrderDelivered.payloadOf` refuses them with an error rather
 *   than hand over a payload without its items; ask `OrderDelivered.canRead(event)` first and
 *   read the rest with `OrderDeliveredV1`.
 */
export const OrderDelivered = defineEvent(
  'OrderDelivered',
  2,
  Type.Object({ ...orderDeliveredV1Fields, items: Type.Array(DeliveredItem) }),
);

export const OrderEvents = [OrderCreated, OrderConfirmed, OrderCancelled, OrderShipped, OrderDelivered] as const;
