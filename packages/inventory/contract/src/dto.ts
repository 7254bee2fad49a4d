import { Type, type Static } from 'typebox';
import { FreeText, Uuid } from '@shop/contract-kit';

const Cents = Type.Integer({ minimum: 0, maximum: 100_000_000 });
const Quantity = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

export const Product = Type.Object({
  id: Uuid,
  sku: Type.String(),
  name: Type.String(),
  price_cents: Cents,
  stock_quantity: Quantity,
  reserved_quantity: Quantity,
  /**
   * The mean of the product's review ratings (each 1 to 5), rounded to 2 decimals; null while it
   * has no review. Kept from the reviews module's events, so it follows a review posted or
   * removed shortly after, not at once.
   */
  rating_average: Type.Union([Type.Number(), Type.Null()], {
    description: "Mean of the product's review ratings (1 to 5), rounded to 2 decimals; null with no review. Updated shortly after a review is posted or removed.",
  }),
  /** How many reviews the product has (as of the review events inventory has handled). */
  review_count: Type.Integer({ minimum: 0, description: 'How many reviews the product has. Updated shortly after a review is posted or removed.' }),
  created_at: Type.String({ format: 'date-time' }),
}, { $id: 'Product' });
export type Product = Static<typeof Product>;

export const CreateProductInput = Type.Object(
  {
    sku: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    name: FreeText({ maxLength: 200 }),
    price_cents: Cents,
    stock_quantity: Quantity,
  },
  { additionalProperties: false },
);
export type CreateProductInput = Static<typeof CreateProductInput>;

export const AdjustStockInput = Type.Object(
  { delta: Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000 }) },
  { additionalProperties: false },
);
export type AdjustStockInput = Static<typeof AdjustStockInput>;

export const ReservationStatus = Type.Union([
  Type.Literal('active'),
  Type.Literal('released'),
  Type.Literal('committed'),
]);
export type ReservationStatus = Static<typeof ReservationStatus>;

export const Reservation = Type.Object({
  id: Uuid,
  order_id: Uuid,
  product_id: Uuid,
  quantity: Type.Integer({ minimum: 1 }),
  status: ReservationStatus,
  created_at: Type.String({ format: 'date-time' }),
}, { $id: 'Reservation' });
export type Reservation = Static<typeof Reservation>;
