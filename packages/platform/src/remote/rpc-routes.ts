import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError, type MethodTable } from '@shop/contract-kit';
import { PlatformErrors } from '../errors.ts';
import { withCaller } from '../telemetry/module-traffic.ts';
import type { ServiceCredential } from './service-auth.ts';

/** A module this process hosts, as other processes may call it. */
export interface ExposedModule {
  readonly name: string;
  readonly api: object;
  readonly methods: MethodTable<any>;
}

const Params = Type.Object({ module: Type.String({ maxLength: 64 }), method: Type.String({ maxLength: 64 }) });
const Body = Type.Object({ args: Type.Array(Type.Unknown(), { maxItems: 16 }) }, { additionalProperties: false });

/**
 * `POST /internal/:module/:method` `{ args }` → `{ result }`: a hosted module's interface, for
 * the HTTP clients of other processes. Only service credentials are accepted. A module error
 * leaves as problem+json with its own code, so the client rethrows the very same error.
 * Only methods named in the module's contract table are reachable. The call runs as caller
 * `remote:<process>` (the name in the service credential), for the extraction report's counts.
 */
export function internalRoutes(modules: readonly ExposedModule[], credential: ServiceCredential): FastifyPluginAsyncTypebox {
  const hosted = new Map(modules.map((module) => [module.name, module]));
  const callers = new WeakMap<object, string>();
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      callers.set(request, await credential.verify(request.headers.authorization));
    });
    app.post('/:module/:method', { schema: { hide: true, params: Params, body: Body } }, async (request) => {
      const { module: name, method } = request.params;
      const module = hosted.get(name);
      if (!module || !Object.hasOwn(module.methods, method)) {
        throw new ModuleError(PlatformErrors.notHosted, `this process does not host ${name}.${method}`);
      }
      const target = (module.api as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!;
      const result = await withCaller(`remote:${callers.get(request) ?? 'unknown'}`, () => target.apply(module.api, request.body.args));
      return { result: result ?? null };
    });
  };
}
