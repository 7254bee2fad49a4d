import { InventoryContract, type InventoryApi } from '@shop/inventory-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { inventorySubscriptions } from './handlers.ts';
import { inventoryRoutes } from './http.ts';
import { InventoryService } from './service.ts';

/** Builds the inventory module. It calls no other module; it consumes orders' events (reservations) and reviews' (the rating summary). */
export function createInventoryModule(deps: ModuleDeps): ModuleInstance<InventoryApi> {
  const runtime = createModuleRuntime('inventory', deps);
  return runtime.instance<InventoryApi>({
    api: new InventoryService(deps.db.kysely),
    subscriptions: inventorySubscriptions(runtime.uow),
  });
}
/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { inventoryRoutes } from './http.ts';

/** The inventory module as the composition root hosts it, reaches it, and serves its routes. */
export const inventoryModule = defineModule({
  contract: InventoryContract,
  migrations: new URL('../migrations/', import.meta.url),
  routes: (api) => inventoryRoutes(api),
  create: (deps) => createInventoryModule(deps),
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const inventoryMigrations: ModuleMigrations = inventoryModule.migrations;
