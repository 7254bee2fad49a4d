import type { Agent } from 'node:https';
import { fileURLToPath } from 'node:url';
import type { ApiOf, ModuleContract } from '@shop/contract-kit';
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleMigrations } from './db/migrate.ts';
import type { ModuleDeps, ModuleInstance } from './module.ts';

/** What the process lends a module besides its database, bus and the interfaces it uses. */
export interface ModuleHost {
  readonly production: boolean;
  /** Where a module may keep files it makes for itself in development (e.g. generated keys). */
  readonly dataDir: string;
  /** How outgoing HTTPS connections trust their peers (tests: a local push service). */
  readonly httpsAgent?: Agent | undefined;
  /** Built for its routes only (the OpenAPI document): nothing may be written or started. */
  readonly buildOnly: boolean;
}

/** The other modules a module calls, by name: their contracts (the kernel hands it their interfaces). */
export type ModuleUses = Readonly<Record<string, ModuleContract<any>>>;
export type ApisOf<U extends ModuleUses> = { readonly [K in keyof U]: ApiOf<U[K]> };

/**
 * One module, declared once: everything the composition root needs to host it, to reach it in
 * another process, and to serve its routes in every process. The composition root iterates the
 * declarations; it knows no module by hand.
 */
export interface ModuleDefinition<Api extends object = any, U extends ModuleUses = any, Settings = any> {
  /** Its name (and schema), methods, access and personal fields: what its remote client is derived from. */
  readonly contract: ModuleContract<Api>;
  readonly migrations: ModuleMigrations;
  /** The modules whose interfaces it receives (local or remote, it can't tell). Built after them. */
  readonly uses: U;
  /** Its public routes over any implementation of its interface, and the interfaces it uses. */
  readonly routes: (api: Api, uses: ApisOf<U>) => FastifyPluginAsync;
  /** Builds the hosted module (`createModuleRuntime` inside): its settings were read and checked at start. */
  readonly create: (deps: ModuleDeps, parts: { readonly uses: ApisOf<U>; readonly settings: Settings; readonly host: ModuleHost }) => ModuleInstance<Api> | Promise<ModuleInstance<Api>>;
}

export function defineModule<Api extends object, U extends ModuleUses = Record<never, never>, Settings = undefined>(definition: {
  contract: ModuleContract<Api>;
  /** The folder of its SQL migrations: `new URL('../migrations/', import.meta.url)`. */
  migrations: URL;
  uses?: U;
  routes: (api: Api, uses: ApisOf<U>) => FastifyPluginAsync;
  create: ModuleDefinition<Api, U, Settings>['create'];
}): ModuleDefinition<Api, U, Settings> {
  return {
    contract: definition.contract,
    migrations: { schema: definition.contract.name, directory: fileURLToPath(definition.migrations) },
    uses: definition.uses ?? ({} as U),
    routes: definition.routes,
    create: definition.create,
  };
}
