import { Type, type Static } from 'typebox';
import { IdempotencyKey, Uuid } from '@shop/contract-kit';


/**
 * `pending`: the provider has been asked and has not answered yet (a crash here is settled
 * by the reconciler at the next start); `captured`: money taken; `failed`: declined, kept
 * for the record; `refunded`: taken, then given back (at most once).
 */
export const PaymentStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('captured'),
  Type.Literal('failed'),
  Type.Literal('refunded'),
]);
export type PaymentStatus = Static<typeof PaymentStatus>;

export const Payment = Type.Object({
  id: Uuid,
  order_id: Uuid,
  amount_cents: Type.Integer({ minimum: 0 }),
  status: PaymentStatus,
  /** Why the provider declined (e.g. `card_declined`, `insufficient_funds`); null otherwise. */
  failure_reason: Type.Union([Type.String(), Type.Null()]),
  /** The provider's id of the charge (a Stripe PaymentIntent id), once it has one. */
  provider_ref: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
}, { $id: 'Payment' });
export type Payment = Static<typeof Payment>;

/**
 * A payment method as Stripe's test mode names them: `pm_card_visa` captures,
 * `pm_card_chargeDeclined` and `pm_card_insufficientFunds` are declined.
 */
export const PaymentMethod = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_]+$' });

/** Body of `POST /api/payments`. The key may come as this field or the `Idempotency-Key` header. */
export const CreatePaymentBody = Type.Object(
  {
    order_id: Uuid,
    payment_method: PaymentMethod,
    idempotency_key: Type.Optional(IdempotencyKey),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

export const PaymentsQuery = Type.Object({ order_id: Uuid }, { additionalProperties: false });
