import type { Agent } from 'node:https';
import type { FastifyPluginAsync } from 'fastify';
import { EDGE, type AccessTable, type EventEnvelope, type MethodTable } from '@shop/contract-kit';
import { createInventoryModule, inventoryRoutes } from '@shop/inventory';
import { InventoryAccess, InventoryMethods, type InventoryApi } from '@shop/inventory-contract';
import { createNotificationsModule, notificationsRoutes } from '@shop/notifications';
import { NotificationsAccess, NotificationsMethods, NotificationsPersonalFields, type NotificationsApi } from '@shop/notifications-contract';
import { createOrdersModule, ordersRoutes } from '@shop/orders';
import { OrdersAccess, OrdersMethods, type OrdersApi } from '@shop/orders-contract';
import { createPaymentProvider, createPaymentsModule, paymentsRoutes } from '@shop/payments';
import { PaymentsAccess, PaymentsMethods, type PaymentsApi } from '@shop/payments-contract';
import {
  RemoteModule,
  RemotePercent,
  RolloutWatch,
  ServiceCredential,
  ShadowSwitch,
  handedTo,
  remoteApi,
  shadowApi,
  splitApi,
  type EventBus,
  type Subscription,
  type Logger,
  type ModuleDatabase,
  type ModuleInstance,
  type ModuleSwitch,
  type OutboxOptions,
  type Telemetry,
} from '@shop/platform';
import type { VapidKeys } from '@shop/notifications/settings';
import type { AppConfig } from './config.ts';
import type { ModuleName, ModulePlacement } from './topology-config.ts';

/** Every module's interface as this process sees it: local, remote, shadowed or switched. */
export interface ModuleApis {
  orders: OrdersApi;
  inventory: InventoryApi;
  payments: PaymentsApi;
  notifications: NotificationsApi;
}

export const METHOD_TABLES: { readonly [M in ModuleName]: MethodTable<ModuleApis[M]> } = {
  orders: OrdersMethods,
  inventory: InventoryMethods,
  payments: PaymentsMethods,
  notifications: NotificationsMethods,
};

/** Who may call each module's methods from another process, and their argument schemas (served by `/internal`). */
export const ACCESS_TABLES: { readonly [M in ModuleName]: AccessTable<ModuleApis[M]> } = {
  orders: OrdersAccess,
  inventory: InventoryAccess,
  payments: PaymentsAccess,
  notifications: NotificationsAccess,
};

/** What each module's contract marks personal in its answers (redacted from shadow mismatches). */
const PERSONAL_FIELDS: { readonly [M in ModuleName]: readonly string[] } = {
  orders: [],
  inventory: [],
  payments: [],
  notifications: NotificationsPersonalFields,
};

/** What the composition root built: hosted modules, every interface, public routes, switches. */
export interface Composition {
  /** Modules hosted here: their handlers, outboxes, start/stop. */
  readonly hosted: readonly ModuleInstance[];
  /** The interface of each hosted module, as other processes reach it (`/internal`; counted by calling process). */
  readonly local: Partial<ModuleApis>;
  readonly apis: ModuleApis;
  /** The whole public API: each module's routes over the interface this process uses for it. */
  readonly routes: readonly FastifyPluginAsync[];
  /** The run-time switches of each module with a remote or shadow copy here (the control plane turns them). */
  readonly switches: ReadonlyMap<ModuleName, ModuleSwitch>;
  close(): Promise<void>;
}

export interface CompositionDeps {
  readonly config: AppConfig;
  readonly db: (schema: string) => ModuleDatabase;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly outbox: OutboxOptions;
  readonly vapid: VapidKeys | undefined;
  readonly pushAgent: Agent | undefined;
}

/**
 * Gives every module either its local implementation or the HTTP client of each dependency,
 * as the topology says; no module knows which. Modules are built in dependency order:
 * inventory, orders (inventory), payments (orders), notifications (inventory).
 *
 * Each interface is handed over wrapped with its receiver's name (`telemetry.traffic`), so
 * synchronous calls between modules are counted by caller, callee and method: a module for
 * the interfaces a module receives (its routes included), `http` for a module's own routes,
 * `remote:<module>` for calls arriving over `/internal`. The extraction report reads them.
 *
 * When any module is reached over HTTP, each interface is also handed over as its receiver's
 * (`handedTo`): an internal call is signed as the module making it, or as `edge` for the public
 * routes, and the callee's contract decides whether that caller may make it.
 */
export function compose(deps: CompositionDeps): Composition {
  const { config, logger, telemetry } = deps;
  const { traffic } = telemetry;
  const placement = config.topology.modules;
  /** `api` (module `callee`'s interface) as handed to `caller`. */
  // Only a process that calls out needs to know who is calling: the monolith pays nothing.
  const callsOut = Object.values(placement).some((where: ModulePlacement) => !where.hosted || where.url || where.shadowUrl);
  const handTo = <Api extends object>(caller: string, callee: ModuleName, api: Api): Api => {
    const counted = traffic.fromCaller(caller, callee, api, placement[callee].hosted);
    return callsOut ? handedTo(caller === 'http' ? EDGE : caller, counted) : counted;
  };
  // No default caller: a call out that no hand-over names fails here rather than unnamed there.
  const credential = config.topology.serviceSecret ? new ServiceCredential(config.topology.serviceSecret) : undefined;
  const remotes: RemoteModule[] = [];
  const hosted: ModuleInstance[] = [];
  const local: Partial<ModuleApis> = {};
  const switches = new Map<ModuleName, ModuleSwitch>();
  const moduleDeps = (schema: string) => ({ db: deps.db(schema), bus: deps.bus, logger, telemetry, outbox: deps.outbox });

  const remoteAt = (name: ModuleName, url: string) => {
    const remote = new RemoteModule({ module: name, url, credential: credential!, logger, telemetry });
    remotes.push(remote);
    return remote;
  };

  /** The interface the rest of this process uses for `name`. */
  function place<M extends ModuleName>(name: M, build: () => ModuleInstance<ModuleApis[M]>): ModuleApis[M] {
    const where: ModulePlacement = placement[name];
    const methods = METHOD_TABLES[name] as MethodTable<ModuleApis[M]>;
    // The module's client comes from its contract's method table: the same interface, over HTTP.
    const client = (remote: RemoteModule) => remoteApi<ModuleApis[M]>(remote, methods);
    if (!where.hosted) return client(remoteAt(name, where.url!));
    const module = build();
    hosted.push({ ...module, subscriptions: module.subscriptions.map((subscription) => metered(name, subscription)) });
    local[name] = traffic.atEntry(name, module.api);
    let api = module.api;
    if (!where.url && !where.shadowUrl) return api;
    // The switches the control plane turns (every replica alike): the share sent to the remote copy, the shadow on or off.
    const sw: ModuleSwitch = {
      percent: where.url ? new RemotePercent(where.remotePercent) : undefined,
      shadow: where.shadowUrl ? new ShadowSwitch() : undefined,
      watch: new RolloutWatch(),
    };
    switches.set(name, sw);
    if (where.url) api = splitApi({ module: name, local: api, remote: client(remoteAt(name, where.url)), methods, telemetry, percent: sw.percent!, watch: sw.watch });
    if (where.shadowUrl) {
      const shadow = sw.shadow!;
      api = shadowApi({
        module: name,
        local: api,
        shadow: client(remoteAt(name, where.shadowUrl)),
        methods,
        telemetry,
        logger,
        enabled: () => shadow.on,
        watch: sw.watch,
        personal: PERSONAL_FIELDS[name],
        onMismatch: (mismatch) => shadow.record(mismatch),
      });
    }
    return api;
  }

  const inventory = place('inventory', () => createInventoryModule(moduleDeps('inventory')));
  const orders = place('orders', () => createOrdersModule({ ...moduleDeps('orders'), inventory: handTo('orders', 'inventory', inventory) }));
  const payments = place(
    'payments',
    () =>
      createPaymentsModule({
        ...moduleDeps('payments'),
        orders: handTo('payments', 'orders', orders),
        provider: createPaymentProvider(config.payments.provider),
        reconcileIntervalMs: config.payments.reconcileIntervalMs,
        reconcileAfterMs: config.payments.reconcileAfterMs,
      }),
  );
  const notify = config.notifications;
  const notifications = place(
    'notifications',
    () =>
      createNotificationsModule({
        ...moduleDeps('notifications'),
        inventory: handTo('notifications', 'inventory', inventory),
        email: { ...(notify.smtpUrl ? { smtpUrl: notify.smtpUrl } : {}), from: notify.emailFrom },
        push: { ...(deps.vapid ? { vapid: deps.vapid } : {}), ...(deps.pushAgent ? { agent: deps.pushAgent } : {}) },
        delivery: { maxAttempts: notify.maxAttempts, retryBaseMs: notify.retryBaseMs, sweepIntervalMs: notify.sweepIntervalMs },
      }),
  );

  return {
    hosted,
    local,
    apis: { orders, inventory, payments, notifications },
    routes: [
      countRequests('inventory', inventoryRoutes(handTo('http', 'inventory', inventory))),
      countRequests('orders', ordersRoutes(handTo('http', 'orders', orders))),
      // Payments' routes read orders to check ownership: a call of payments into orders.
      countRequests('payments', paymentsRoutes(handTo('http', 'payments', payments), handTo('payments', 'orders', orders))),
      countRequests('notifications', notificationsRoutes(handTo('http', 'notifications', notifications))),
    ],
    switches,
    close: async () => {
      await Promise.all(remotes.map((remote) => remote.close()));
    },
  };

  /**
   * A module's subscription with its work charged to the module (CPU, the extraction report's
   * evidence: its API calls are measured by instrumentApi) and each event's lag measured, whether
   * the bus hands events over one by one (NATS) or in batches (in process).
   */
  function metered(module: ModuleName, subscription: Subscription): Subscription {
    const lag = telemetry.eventLag.labels(subscription.consumer);
    const handled = (events: readonly EventEnvelope[]) => {
      const now = Date.now();
      for (const event of events) lag.observe(Math.max(0, now - Date.parse(event.occurred_at)) / 1000);
    };
    const { handleBatch } = subscription;
    return {
      ...subscription,
      handle: (event) =>
        traffic.measure(module, async () => {
          await subscription.handle(event);
          handled([event]);
        }),
      ...(handleBatch
        ? {
            handleBatch: (events: readonly EventEnvelope[]) =>
              traffic.measure(module, async () => {
                const outcomes = await handleBatch.call(subscription, events);
                handled(events);
                return outcomes;
              }),
          }
        : {}),
    };
  }

  /** A module's routes, each answered request counted as the module's (its share of requests). */
  function countRequests(module: ModuleName, routes: FastifyPluginAsync<any>): FastifyPluginAsync {
    return async (app) => {
      app.addHook('onResponse', async () => traffic.request(module));
      await app.register(routes);
    };
  }
}
