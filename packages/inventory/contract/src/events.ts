import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';

const Line = Type.Object({ product_id: Uuid, quantity: Type.Integer({ minimum: 1 }) });

/** Every item of the order is now held for it (all or nothing). */
export const StockReserved = defineEvent(
  'StockReserved',
  1,
  Type.Object({ order_id: Uuid, items: Type.Array(Line) }),
);

/** The order could not be reserved; nothing was held. `shortages` says what was missing. */
export const StockReservationFailed = defineEvent(
  'StockReservationFailed',
  1,
  Type.Object({
    order_id: Uuid,
    reason: Type.Literal('insufficient_stock'),
    shortages: Type.Array(
      Type.Object({ product_id: Uuid, requested: Type.Integer(), available: Type.Integer() }),
    ),
  }),
);

/** The order's active reservations were released (the stock is available again). */
export const StockReleased = defineEvent(
  'StockReleased',
  1,
  Type.Object({ order_id: Uuid, items: Type.Array(Line) }),
);

export const InventoryEvents = [StockReserved, StockReservationFailed, StockReleased] as const;
