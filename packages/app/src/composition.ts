import type { Agent } from 'node:https';
import type { FastifyPluginAsync } from 'fastify';
import { EDGE, type AccessTable, type EventEnvelope, type MethodTable } from '@shop/contract-kit';
import { internalCaller, type EventBus, type Subscription, type Logger, type ModuleDatabase, type ModuleDefinition, type ModuleHost, type ModuleInstance, type OutboxOptions, type Telemetry } from '@shop/platform';
import { RemoteModule, RemotePercent, RolloutWatch, ServiceCredential, ShadowSwitch, boundaryApi, remoteApi, shadowApi, splitApi, type ModuleSwitch } from '@shop/distribution';
import type { AppConfig } from './config.ts';
import { MODULES, type ModuleApis } from './modules.ts';
import { MODULE_NAMES, type ModuleName, type ModulePlacement } from './topology-config.ts';

export type { ModuleApis } from './modules.ts';

export const METHOD_TABLES = Object.fromEntries(MODULE_NAMES.map((name) => [name, MODULES[name].contract.methods])) as {
  readonly [M in ModuleName]: MethodTable<ModuleApis[M]>;
};

/** Who may call each module's methods from another process, and their argument schemas (served by `/internal`). */
export const ACCESS_TABLES = Object.fromEntries(MODULE_NAMES.map((name) => [name, MODULES[name].contract.access])) as {
  readonly [M in ModuleName]: AccessTable<ModuleApis[M]>;
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
  /** The HTTPS agent for outgoing calls of modules (tests: one trusting a local push service). */
  readonly httpsAgent?: Agent | undefined;
  /** Built for the routes only (the OpenAPI document): nothing is written or started. */
  readonly buildOnly?: boolean;
}

/**
 * Gives every module either its local implementation or the HTTP client of each dependency,
 * as the topology says; no module knows which. It iterates the modules' declarations
 * (modules.ts): a hosted module is built once every module it uses has an interface here
 * (local or remote), so the order follows their `uses`; a module hosted elsewhere gets the
 * client its contract's method table derives.
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
export async function compose(deps: CompositionDeps): Promise<Composition> {
  const { config, logger, telemetry } = deps;
  const { traffic } = telemetry;
  const placement = config.topology.modules;
  // Only a process that calls out needs to know who is calling: the monolith pays nothing.
  const callsOut = Object.values(placement).some((where: ModulePlacement) => !where.hosted || where.url || where.shadowUrl);
  /** Modules whose interface here is their bare implementation: each hand-over instruments it too. */
  const bare = new Set<ModuleName>();
  /**
   * Module `callee`'s interface as handed to `caller`, in one wrapper per method: the call counted
   * by caller, signed as the caller when this process calls out, and, for a module hosted here
   * without a remote copy, instrumented as the callee's.
   */
  const handTo = (caller: string, callee: ModuleName): object =>
    boundaryApi(
      apis[callee]!,
      {
        count: { caller, callee, via: placement[callee].hosted ? 'in-process' : 'remote' },
        ...(callsOut ? { signAs: caller === 'http' ? EDGE : caller } : {}),
        ...(bare.has(callee) ? { local: callee } : {}),
      },
      telemetry,
    );
  // No default caller: a call out that no hand-over names fails here rather than unnamed there.
  const credential = config.topology.serviceSecret ? new ServiceCredential(config.topology.serviceSecret) : undefined;
  const remotes: RemoteModule[] = [];
  const hosted: ModuleInstance[] = [];
  const local: Partial<ModuleApis> = {};
  const apis: Partial<Record<ModuleName, object>> = {};
  const switches = new Map<ModuleName, ModuleSwitch>();
  const host: ModuleHost = { production: config.production, dataDir: config.dataDir, httpsAgent: deps.httpsAgent, buildOnly: deps.buildOnly ?? false };
  const definition = (name: ModuleName): ModuleDefinition => MODULES[name];
  const usedBy = (name: ModuleName) => Object.keys(definition(name).uses) as ModuleName[];
  /** The interfaces `name` uses, each handed over as `caller`'s. */
  const usesOf = (name: ModuleName, caller: string = name) => Object.fromEntries(usedBy(name).map((used) => [used, handTo(caller, used)]));

  const remoteAt = (name: ModuleName, url: string) => {
    const remote = new RemoteModule({ module: name, url, credential: credential!, logger, telemetry });
    remotes.push(remote);
    return remote;
  };
  // The module's client comes from its contract's method table: the same interface, over HTTP.
  const client = (name: ModuleName, url: string) => remoteApi<object>(remoteAt(name, url), definition(name).contract.methods);

  for (const name of MODULE_NAMES) if (!placement[name].hosted) apis[name] = client(name, placement[name].url!);
  // Hosted modules, each once the interfaces it uses exist.
  let waiting = MODULE_NAMES.filter((name) => placement[name].hosted);
  while (waiting.length > 0) {
    const ready = waiting.filter((name) => usedBy(name).every((used) => apis[used]));
    if (ready.length === 0) throw new Error(`modules ${waiting.join(', ')} use each other in a cycle: a module may only use modules built before it`);
    for (const name of ready) apis[name] = await place(name);
    waiting = waiting.filter((name) => !ready.includes(name));
  }

  return {
    hosted,
    local,
    apis: apis as ModuleApis,
    // Every process serves every module's routes, over the interface it has for that module.
    routes: MODULE_NAMES.map((name) => countRequests(name, definition(name).routes(handTo('http', name), usesOf(name)))),
    switches,
    close: async () => {
      await Promise.all(remotes.map((remote) => remote.close()));
    },
  };

  /** Builds hosted module `name`; returns the interface the rest of this process uses for it. */
  async function place(name: ModuleName): Promise<object> {
    const where: ModulePlacement = placement[name];
    const { contract } = definition(name);
    const module = await definition(name).create(
      { db: deps.db(name), bus: deps.bus, logger, telemetry, outbox: deps.outbox },
      { uses: usesOf(name), settings: config.settings[name as keyof AppConfig['settings']], host },
    );
    hosted.push({ ...module, subscriptions: module.subscriptions.map((subscription) => metered(name, subscription)) });
    // As other processes reach it over `/internal`: counted by calling process, instrumented.
    (local as Record<string, object>)[name] = boundaryApi(module.service, { count: { caller: internalCaller, callee: name, via: 'internal' }, local: name }, telemetry);
    if (!where.url && !where.shadowUrl) {
      bare.add(name);
      return module.service;
    }
    // A remote copy: the local side keeps its own instrumentation, inside the split and the shadow.
    let api: object = module.api;
    // The switches the control plane turns (every replica alike): the share sent to the remote copy, the shadow on or off.
    const sw: ModuleSwitch = {
      percent: where.url ? new RemotePercent(where.remotePercent) : undefined,
      shadow: where.shadowUrl ? new ShadowSwitch() : undefined,
      watch: new RolloutWatch(),
    };
    switches.set(name, sw);
    const methods = contract.methods as MethodTable<object>;
    if (where.url) api = splitApi({ module: name, local: api, remote: client(name, where.url), methods, telemetry, percent: sw.percent!, watch: sw.watch });
    if (where.shadowUrl) {
      const shadow = sw.shadow!;
      api = shadowApi({
        module: name,
        local: api,
        shadow: client(name, where.shadowUrl),
        methods,
        telemetry,
        logger,
        enabled: () => shadow.on,
        watch: sw.watch,
        personal: contract.personal,
        onMismatch: (mismatch) => shadow.record(mismatch),
      });
    }
    return api;
  }

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
