import { fileURLToPath } from 'node:url';
import { ReviewsContract, type ReviewsApi } from '@shop/reviews-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { reviewsSubscriptions } from './handlers.ts';
import { reviewsRoutes } from './http.ts';
import { ReviewsService } from './service.ts';

export const reviewsMigrations: ModuleMigrations = {
  schema: 'reviews',
  directory: fileURLToPath(new URL('../migrations/', import.meta.url)),
};

/** Builds the reviews module: the kernel gives it its outbox, inbox, unit of work and metrics. */
export function createReviewsModule(deps: ModuleDeps): ModuleInstance<ReviewsApi> {
  const runtime = createModuleRuntime('reviews', deps);
  const service = new ReviewsService({ db: deps.db, uow: runtime.uow });
  return runtime.instance<ReviewsApi>({ api: service, routes: reviewsRoutes, subscriptions: reviewsSubscriptions(runtime.uow) });
}

/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { reviewsRoutes } from './http.ts';

/** The reviews module as the composition root hosts it, reaches it, and serves its routes. */
export const reviewsModule = defineModule({
  contract: ReviewsContract,
  migrations: new URL('../migrations/', import.meta.url),
  routes: (api) => reviewsRoutes(api),
  create: (deps) => createReviewsModule(deps),
});
