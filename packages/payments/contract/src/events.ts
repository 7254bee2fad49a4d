import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';

const Base = { payment_id: Uuid, order_id: Uuid, amount_cents: Type.Integer({ minimum: 0 }) };

/** Money was taken for the order; orders confirms it next. */
export const PaymentCaptured = defineEvent('PaymentCaptured', 1, Type.Object({ ...Base, provider_ref: Type.String() }));

/** The provider declined; the failed payment is kept. */
export const PaymentFailed = defineEvent('PaymentFailed', 1, Type.Object({ ...Base, failure_reason: Type.String() }));

/** A captured payment was given back (the order was cancelled). Happens at most once per payment. */
export const PaymentRefunded = defineEvent('PaymentRefunded', 1, Type.Object({ ...Base, refund_ref: Type.String() }));

export const PaymentEvents = [PaymentCaptured, PaymentFailed, PaymentRefunded] as const;
