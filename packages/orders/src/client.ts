import { OrdersMethods, type OrdersApi } from '@shop/orders-contract';
import { remoteApi, type RemoteModule } from '@shop/platform';

/**
 * OrdersApi over HTTP, for processes that do not host orders: the same interface and the same
 * errors as the local module. What may be retried comes from the contract's method table.
 */
export function createOrdersClient(remote: RemoteModule): OrdersApi {
  return remoteApi<OrdersApi>(remote, OrdersMethods);
}
