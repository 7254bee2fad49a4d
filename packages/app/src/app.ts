import type { Agent } from 'node:https';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type pg from 'pg';
import { Database, InProcessBus, MessagingRetention, startTracing, stopTracing, Telemetry, TokenVerifier, buildHttpServer, createLogger, isMigrated, listenAdmin, startEmbeddedPostgres, type AdminListener, type EmbeddedPostgres, type EventBus, type Logger, type ModuleInstance } from '@shop/platform';
import { ControlPlane, ServiceCredential, TrafficRecorder, internalRoutes } from '@shop/distribution';
import { adminRoutes } from './admin.ts';
import { consoleRoutes } from './console/routes.ts';
import { trafficRoutes } from './console/traffic-routes.ts';
import { ACCESS_TABLES, METHOD_TABLES, compose, type ModuleApis } from './composition.ts';
import type { AppConfig } from './config.ts';
import { resolveAuth, writeDevTokens, type DevTokens } from './credentials.ts';
import { extractionRoutes } from './extraction/routes.ts';
import { MODULE_TAGS, MODULES } from './modules.ts';
import { MODULE_NAMES, type Topology } from './topology-config.ts';
import { topologyRoutes } from './topology-routes.ts';

export const VERSION = '0.1.0';

/** A running process: its server, its modules, and how to stop it cleanly. */
export interface RunningApp {
  readonly server: FastifyInstance;
  readonly url: string;
  /** Where `/metrics`, `/docs` and `/openapi.json` are served: `url`, or the admin listener's (ADMIN_PORT). */
  readonly adminUrl: string;
  /** The modules hosted in this process. */
  readonly modules: readonly ModuleInstance[];
  /** Every module's interface as this process uses it (local, remote, shadowed or switched). */
  readonly apis: ModuleApis;
  readonly database: Database;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly devTokens: DevTokens | undefined;
  stop(): Promise<void>;
}

/**
 * The public API under `/api`: every module's routes, then the operators' (admin) ones. What
 * `/openapi.json` documents; `openapi-document.ts` builds the same list without a database.
 */
export function publicApiRoutes(parts: {
  moduleRoutes: readonly FastifyPluginAsync[];
  modules: readonly ModuleInstance[];
  pool: pg.Pool;
  topology: Topology;
  control: ControlPlane;
}): FastifyPluginAsync[] {
  return [
    ...parts.moduleRoutes,
    adminRoutes(parts.modules),
    extractionRoutes({ pool: parts.pool, modules: MODULE_NAMES }),
    topologyRoutes(parts.topology, parts.control),
    trafficRoutes({ pool: parts.pool, modules: MODULE_NAMES }),
  ];
}

/** What only tests and embedders change: how outgoing connections trust their peers. */
export interface AppHooks {
  /** The HTTPS agent for modules' outgoing calls, Web Push's among them (e.g. one trusting a local test push service). */
  readonly httpsAgent?: Agent;
  /** The embedded PostgreSQL, already starting (main.ts starts it while it loads this file); else started here when DATABASE_URL is unset. */
  readonly embeddedPostgres?: Promise<EmbeddedPostgres>;
}

/**
 * The process: picks the database, migrates the modules it hosts, builds every module or its
 * client as the topology says (composition.ts), picks the bus (in process, or NATS JetStream
 * once events cross processes), and serves the whole public API plus the internal one.
 */
export async function startApp(config: AppConfig, logger: Logger = createLogger(config.logLevel), hooks: AppHooks = {}): Promise<RunningApp> {
  // First: the SQL, HTTP and module-call spans need the SDK in place before anything runs.
  if (config.tracing) await startTracing(config.tracing, { serviceName: serviceNameOf(config.modules), version: VERSION, modules: config.modules });
  const embedded: EmbeddedPostgres | undefined = config.databaseUrl ? undefined : await (hooks.embeddedPostgres ?? startEmbeddedPostgres(config.dataDir, logger));
  const database = new Database({
    url: config.databaseUrl ?? embedded!.url,
    connectionsPerModule: config.dbPoolSize,
    moduleRoles: config.dbModuleRoles,
    moduleUrls: config.moduleDatabaseUrls,
  });
  let bus: EventBus | undefined;
  let admin: AdminListener | undefined;
  try {
    const migrations = config.topology.hosted.map((name) => MODULES[name].migrations);
    // As the owner; then each module connects as its own role, with rights on its schema only.
    await database.migrate(migrations, logger);

    const telemetry = new Telemetry();
    // The extraction report's run-time evidence (calls by caller, requests, CPU), flushed every 10 s and at stop.
    const recorder = new TrafficRecorder({ pool: database.pool, traffic: telemetry.traffic, process: config.topology.hosted.join('+') || 'none', logger });
    const { natsUrl, serviceSecret } = config.topology;
    // The NATS client loads only when events cross processes.
    let events: EventBus = new InProcessBus();
    if (natsUrl) {
      const nats = new (await import('@shop/distribution/nats')).NatsBus({
        url: natsUrl,
        logger,
        name: `shop:${config.topology.hosted.join('+')}`,
        stream: config.topology.natsStream,
        subjectPrefix: config.topology.natsSubjectPrefix,
      });
      telemetry.watchConsumers(() => nats.consumerStats());
      events = nats;
    }
    bus = events;
    const composition = await compose({
      config,
      db: (schema) => database.forModule(schema),
      bus: events,
      logger,
      telemetry,
      outbox: config.outbox,
      httpsAgent: hooks.httpsAgent,
    });
    const modules = composition.hosted;
    // Each hosted module prunes its own delivered outbox rows and old inbox rows (every replica
    // does; their batches skip each other's rows). A module's schema is named after it.
    const retention = modules.map((module) => new MessagingRetention({ db: database.forModule(module.name), module: module.name, logger }, config.retention));
    for (const [name, pool] of database.pools()) telemetry.watchPool(name, pool);
    telemetry.buildInfo(VERSION, process.env.SHOP_COMMIT ?? 'dev');
    // The deployment's switches and rollouts, shared by every replica through the database.
    const control = new ControlPlane({
      pool: database.pool,
      logger,
      process: config.topology.hosted.join('+') || 'none',
      modules: config.topology.hosted,
      version: VERSION,
      switches: composition.switches,
    });
    for (const module of modules) for (const subscription of module.subscriptions) events.subscribe(subscription);

    const auth = await resolveAuth(config);
    let migrated = false;
    let draining = false;
    const exposed = config.topology.hosted.map((name) => ({ name, api: composition.local[name]!, methods: METHOD_TABLES[name], access: ACCESS_TABLES[name] }));
    const server = await buildHttpServer({
      logger,
      telemetry,
      accessLog: config.accessLog,
      moduleTags: MODULE_TAGS,
      verifier: new TokenVerifier(auth),
      apiRoutes: publicApiRoutes({ moduleRoutes: composition.routes, modules, pool: database.pool, topology: config.topology, control }),
      ...(serviceSecret ? { internalRoutes: internalRoutes(exposed, new ServiceCredential(serviceSecret, 'verifier')) } : {}),
      operationsRoutes: [consoleRoutes()],
      version: VERSION,
      separateAdmin: config.adminPort !== undefined,
      draining: () => draining,
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

    await recorder.start();
    await control.start();
    await events.start();
    for (const module of modules) await module.start();
    for (const pruner of retention) pruner.start();
    await server.listen({ port: config.port, host: config.host });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    if (config.adminPort !== undefined) admin = await listenAdmin(server, { port: config.adminPort, host: config.host });
    const adminListener = admin;
    const devTokens = await writeDevTokens(config, auth);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        // Drain first: /ready answers 503 while every request is still served, so load balancers
        // take this replica out before its listener closes, and nobody sees a refused connection.
        draining = true;
        if (config.shutdownDrainMs > 0) {
          logger.info({ drain_ms: config.shutdownDrainMs }, 'draining: /ready answers 503, still serving');
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
        }
        // Stop accepting, finish in-flight requests (the admin listener's too).
        await Promise.all([server.close(), adminListener?.close()]);
        await Promise.all(retention.map((pruner) => pruner.stop()));
        for (const module of [...modules].reverse()) await module.stop(); // drain outboxes
        await events.stop();
        await composition.close();
        await control.stop(); // off the list of replicas
        await recorder.stop(); // the last counts, modules stopped
        await database.close();
        await embedded?.stop(); // last: nothing of ours is connected any more
        if (config.tracing) await stopTracing(); // the spans still queued, exported
      })());
    const url = `http://localhost:${port}`;
    return { server, url, adminUrl: admin ? `http://localhost:${admin.port}` : url, modules, apis: composition.apis, database, telemetry, logger, devTokens, stop };
  } catch (error) {
    await admin?.close().catch(() => undefined);
    await bus?.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    if (config.tracing) await stopTracing().catch(() => undefined);
    throw error;
  }
}

/** `shop` for the whole system in one process; `shop-<modules>` for a process hosting some of them. */
function serviceNameOf(modules: readonly string[]): string {
  return modules.length === MODULE_NAMES.length ? 'shop' : `shop-${modules.join('+')}`;
}
