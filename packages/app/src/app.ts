import type { Agent } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { createInventoryModule, inventoryMigrations } from '@shop/inventory';
import { createNotificationsModule, notificationsMigrations } from '@shop/notifications';
import { createOrdersModule, ordersMigrations } from '@shop/orders';
import { createPaymentProvider, createPaymentsModule, paymentsMigrations } from '@shop/payments';
import {
  Database,
  InProcessBus,
  Telemetry,
  TokenVerifier,
  buildHttpServer,
  createLogger,
  isMigrated,
  migrateModule,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EventBus,
  type Logger,
  type ModuleInstance,
} from '@shop/platform';
import { adminRoutes } from './admin.ts';
import type { AppConfig } from './config.ts';
import { resolveAuth, resolveVapidKeys, writeDevTokens, type DevTokens } from './credentials.ts';

export const VERSION = '0.1.0';

/** A running process: its server, its modules, and how to stop it cleanly. */
export interface RunningApp {
  readonly server: FastifyInstance;
  readonly url: string;
  readonly modules: readonly ModuleInstance[];
  readonly database: Database;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly devTokens: DevTokens | undefined;
  stop(): Promise<void>;
}

/** What only tests and embedders change: how outgoing connections trust their peers. */
export interface AppHooks {
  /** The HTTPS agent for Web Push requests (e.g. one trusting a local test push service). */
  readonly pushAgent?: Agent;
}

/**
 * The composition root: the one place that knows every module. It picks the database, runs
 * each module's migrations, builds each module with its dependencies (other modules reach
 * each other only through their contract interfaces), subscribes their handlers, and serves.
 */
export async function startApp(config: AppConfig, logger: Logger = createLogger(config.logLevel), hooks: AppHooks = {}): Promise<RunningApp> {
  const embedded: EmbeddedPostgres | undefined = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, logger);
  const database = new Database({ url: config.databaseUrl ?? embedded!.url, maxConnections: config.dbPoolSize });
  try {
    const migrations = [inventoryMigrations, ordersMigrations, paymentsMigrations, notificationsMigrations];
    for (const module of migrations) await migrateModule(database.pool, module);

    const telemetry = new Telemetry();
    const bus: EventBus = new InProcessBus();
    const deps = (schema: string) => ({ db: database.forModule(schema), bus, logger, telemetry, outbox: config.outbox });
    const inventory = createInventoryModule(deps('inventory'));
    const orders = createOrdersModule({ ...deps('orders'), inventory: inventory.api });
    const payments = createPaymentsModule({
      ...deps('payments'),
      orders: orders.api,
      provider: createPaymentProvider(config.payments.provider),
      reconcileIntervalMs: config.payments.reconcileIntervalMs,
      reconcileAfterMs: config.payments.reconcileAfterMs,
    });
    const notify = config.notifications;
    const vapid = await resolveVapidKeys(config, logger);
    const notifications = createNotificationsModule({
      ...deps('notifications'),
      inventory: inventory.api,
      email: { ...(notify.smtpUrl ? { smtpUrl: notify.smtpUrl } : {}), from: notify.emailFrom },
      push: { ...(vapid ? { vapid } : {}), ...(hooks.pushAgent ? { agent: hooks.pushAgent } : {}) },
      delivery: { maxAttempts: notify.maxAttempts, retryBaseMs: notify.retryBaseMs, sweepIntervalMs: notify.sweepIntervalMs },
    });
    const modules: ModuleInstance[] = [inventory, orders, payments, notifications];
    for (const module of modules) for (const subscription of module.subscriptions) bus.subscribe(subscription);

    const auth = await resolveAuth(config);
    let migrated = false;
    const server = await buildHttpServer({
      logger,
      telemetry,
      verifier: new TokenVerifier(auth),
      apiRoutes: [...modules.map((module) => module.routes), adminRoutes(modules)],
      version: VERSION,
      readiness: async () => {
        try {
          await database.ping();
          migrated ||= (await Promise.all(migrations.map((m) => isMigrated(database.pool, m)))).every(Boolean);
          return migrated ? { ready: true } : { ready: false, detail: 'migrations are not applied' };
        } catch {
          return { ready: false, detail: 'the database is not reachable' };
        }
      },
    });

    await bus.start();
    for (const module of modules) await module.start();
    await server.listen({ port: config.port, host: config.host });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const devTokens = await writeDevTokens(config, auth);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await server.close(); // stop accepting, finish in-flight requests
        for (const module of [...modules].reverse()) await module.stop(); // drain outboxes
        await bus.stop();
        await database.close();
        await embedded?.stop();
      })());
    return { server, url: `http://localhost:${port}`, modules, database, telemetry, logger, devTokens, stop };
  } catch (error) {
    await database.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
