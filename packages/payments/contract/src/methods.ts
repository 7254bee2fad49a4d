import { Type } from 'typebox';
import { EDGE, defineContract, IdempotencyKey, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { PaymentsApi } from './api.ts';
import { PaymentMethod } from './dto.ts';

/** What each PaymentsApi method does to state: what may be retried and shadowed. */
export const PaymentsMethods = {
  processPayment: 'idempotent-write', // one key, one charge: a repeat replays the first payment
  getPayment: 'read',
  listPaymentsForOrder: 'read',
} as const satisfies MethodTable<PaymentsApi>;

/** `processPayment`'s command: the checked body of `POST /api/payments`, with the key settled. */
const ProcessPaymentCommand = Type.Object(
  { order_id: Uuid, payment_method: PaymentMethod, idempotency_key: IdempotencyKey },
  { additionalProperties: false },
);

/** Who may call each PaymentsApi method from another process (the edge, for payments' routes), and its argument schemas. */
export const PaymentsAccess = {
  processPayment: { callers: [EDGE], args: [ProcessPaymentCommand] },
  getPayment: { callers: [EDGE], args: [Uuid] },
  listPaymentsForOrder: { callers: [EDGE], args: [Uuid] },
} as const satisfies AccessTable<PaymentsApi>;

/** The payments module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const PaymentsContract = defineContract<PaymentsApi>({
  name: 'payments',
  description: 'Charging an order and the payment attempts kept for it; refunds follow a cancellation (module payments).',
  methods: PaymentsMethods, access: PaymentsAccess });
