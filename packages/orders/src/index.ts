import { InventoryContract, type InventoryApi } from '@shop/inventory-contract';
import { OrdersContract, type OrdersApi } from '@shop/orders-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { ordersSubscriptions } from './handlers.ts';
import { ordersRoutes } from './http.ts';
import { OrdersService } from './service.ts';

export interface OrdersModuleDeps extends ModuleDeps {
  /** Catalog prices are read through inventory's interface (local or remote, it can't tell). */
  readonly inventory: InventoryApi;
}

/** Builds the orders module. */
export function createOrdersModule(deps: OrdersModuleDeps): ModuleInstance<OrdersApi> {
  const runtime = createModuleRuntime('orders', deps);
  const service = new OrdersService({ db: deps.db, uow: runtime.uow, inventory: deps.inventory });
  return runtime.instance<OrdersApi>({ api: service, subscriptions: ordersSubscriptions(runtime.uow, service) });
}
/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { ordersRoutes } from './http.ts';

/** The orders module as the composition root hosts it, reaches it, and serves its routes. */
export const ordersModule = defineModule({
  contract: OrdersContract,
  migrations: new URL('../migrations/', import.meta.url),
  uses: { inventory: InventoryContract },
  routes: (api) => ordersRoutes(api),
  create: (deps, { uses }) => createOrdersModule({ ...deps, inventory: uses.inventory }),
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const ordersMigrations: ModuleMigrations = ordersModule.migrations;
