import type { MethodTable } from '@shop/contract-kit';
import type { PaymentsApi } from './api.ts';

/** What each PaymentsApi method does to state: what may be retried and shadowed. */
export const PaymentsMethods = {
  processPayment: 'idempotent-write', // one key, one charge: a repeat replays the first payment
  getPayment: 'read',
  listPaymentsForOrder: 'read',
} as const satisfies MethodTable<PaymentsApi>;
