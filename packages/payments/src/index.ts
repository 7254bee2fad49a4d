import { OrdersContract, type OrdersApi } from '@shop/orders-contract';
import { PaymentsContract, type PaymentsApi } from '@shop/payments-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { createPaymentProvider } from './create-provider.ts';
import { paymentsSubscriptions } from './handlers.ts';
import { paymentsRoutes } from './http.ts';
import type { PaymentProvider } from './provider.ts';
import { Reconciler } from './reconciler.ts';
import { PaymentsService } from './service.ts';
import type { PaymentsConfig } from './settings.ts';
import { Settlement } from './settlement.ts';

export { createPaymentProvider };
export { ProviderUnavailable, type PaymentProvider, type PaymentProviderConfig, type ChargeRequest, type ChargeResult, type RefundRequest, type RefundResult } from './provider.ts';

export interface PaymentsModuleDeps extends ModuleDeps {
  /** Orders are read through their interface (local or remote, it can't tell). */
  readonly orders: OrdersApi;
  /** Where money moves: `createPaymentProvider(config)`. */
  readonly provider: PaymentProvider;
  /** How often the reconciler looks for unfinished charges and refunds; default 30 s. */
  readonly reconcileIntervalMs?: number;
  /** How long a charge or refund may stay unfinished before the reconciler takes it over; default 5 s. */
  readonly reconcileAfterMs?: number;
}

/** Builds the payments module. */
export function createPaymentsModule(deps: PaymentsModuleDeps): ModuleInstance<PaymentsApi> {
  const runtime = createModuleRuntime('payments', deps);
  const settlement = new Settlement({ db: deps.db, uow: runtime.uow, provider: deps.provider, logger: runtime.logger, callOut: runtime.callOut });
  const reconciler = new Reconciler(
    { db: deps.db, settlement, logger: runtime.logger },
    { intervalMs: deps.reconcileIntervalMs, quietMs: deps.reconcileAfterMs },
  );
  return runtime.instance<PaymentsApi>({
    api: new PaymentsService({ db: deps.db, uow: runtime.uow, orders: deps.orders, settlement }),
    subscriptions: paymentsSubscriptions(runtime.uow, settlement),
    // Stopped in reverse: the reconciler first, then the refunds already decided finish, so their events are written.
    workers: [{ stop: () => settlement.idle() }, reconciler],
  });
}
/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { paymentsRoutes };

/** The payments module as the composition root hosts it, reaches it, and serves its routes. */
export const paymentsModule = defineModule<PaymentsApi, { orders: typeof OrdersContract }, PaymentsConfig>({
  contract: PaymentsContract,
  migrations: new URL('../migrations/', import.meta.url),
  uses: { orders: OrdersContract },
  // Payments' routes read orders to check ownership: a call of payments into orders.
  routes: (api, uses) => paymentsRoutes(api, uses.orders),
  create: (deps, { uses, settings }) =>
    createPaymentsModule({
      ...deps,
      orders: uses.orders,
      provider: createPaymentProvider(settings.provider),
      reconcileIntervalMs: settings.reconcileIntervalMs,
      reconcileAfterMs: settings.reconcileAfterMs,
    }),
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const paymentsMigrations: ModuleMigrations = paymentsModule.migrations;
