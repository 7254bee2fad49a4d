import { PaymentsMethods, type PaymentsApi } from '@shop/payments-contract';
import { remoteApi, type RemoteModule } from '@shop/platform';

/**
 * PaymentsApi over HTTP, for processes that do not host payments: the same interface and the same
 * errors as the local module. What may be retried comes from the contract's method table.
 */
export function createPaymentsClient(remote: RemoteModule): PaymentsApi {
  return remoteApi<PaymentsApi>(remote, PaymentsMethods);
}
