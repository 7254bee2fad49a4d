import { InventoryMethods, type InventoryApi } from '@shop/inventory-contract';
import { remoteApi, type RemoteModule } from '@shop/platform';

/**
 * InventoryApi over HTTP, for processes that do not host inventory: the same interface and the same
 * errors as the local module. What may be retried comes from the contract's method table.
 */
export function createInventoryClient(remote: RemoteModule): InventoryApi {
  return remoteApi<InventoryApi>(remote, InventoryMethods);
}
