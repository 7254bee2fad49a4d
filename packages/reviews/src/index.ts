import { InventoryContract, type InventoryApi } from '@shop/inventory-contract';
import { ReviewsContract, type ReviewsApi } from '@shop/reviews-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { reviewsSubscriptions } from './handlers.ts';
import { reviewsRoutes } from './http.ts';
import { ReviewsService } from './service.ts';

export interface ReviewsModuleDeps extends ModuleDeps {
  /** Whether a product exists, asked through inventory's interface (local or remote, it can't tell). */
  readonly inventory: InventoryApi;
}

/** Builds the reviews module: orders' delivered orders in, reviews and their events out. */
export function createReviewsModule(deps: ReviewsModuleDeps): ModuleInstance<ReviewsApi> {
  const runtime = createModuleRuntime('reviews', deps);
  const service = new ReviewsService({ db: deps.db, uow: runtime.uow, inventory: deps.inventory });
  return runtime.instance<ReviewsApi>({ api: service, subscriptions: reviewsSubscriptions(runtime.uow, runtime.logger) });
}

/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { reviewsRoutes } from './http.ts';

/** The reviews module as the composition root hosts it, reaches it, and serves its routes. */
export const reviewsModule = defineModule({
  contract: ReviewsContract,
  migrations: new URL('../migrations/', import.meta.url),
  uses: { inventory: InventoryContract },
  routes: (api) => reviewsRoutes(api),
  create: (deps, { uses }) => createReviewsModule({ ...deps, inventory: uses.inventory }),
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const reviewsMigrations: ModuleMigrations = reviewsModule.migrations;
