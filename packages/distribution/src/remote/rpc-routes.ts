import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError, type AccessTable, type MethodTable } from '@shop/contract-kit';
import { PlatformErrors, forbidden } from '@shop/platform';
import { withCaller } from '@shop/platform/internals';
import { compileAccess } from './method-access.ts';
import type { ServiceCredential } from './service-auth.ts';

/** A module this process hosts, as other processes may call it. */
export interface ExposedModule {
  readonly name: string;
  readonly api: object;
  readonly methods: MethodTable<any>;
  /** Who may call each method, and its argument schemas (the contract's, e.g. `OrdersAccess`). */
  readonly access: AccessTable<any>;
}

const Params = Type.Object({ module: Type.String({ maxLength: 64 }), method: Type.String({ maxLength: 64 }) });
const Body = Type.Object({ args: Type.Array(Type.Unknown(), { maxItems: 16 }) }, { additionalProperties: false });

/**
 * `POST /internal/:module/:method` `{ args }` → `{ result }`: a hosted module's interface, for
 * the HTTP clients of other processes. Only service credentials are accepted. A module error
 * leaves as problem+json with its own code, so the client rethrows the very same error.
 * Only methods named in the module's contract table are reachable, only by the callers its
 * access table names for the method (the calling module in the credential, or `edge`; anyone
 * else gets 403 `forbidden`), and only with arguments that match its schemas (400
 * `invalid_input` naming the argument): the method never sees a call its contract refuses.
 * The call runs as caller `remote:<module>`, for the extraction report's counts.
 */
export function internalRoutes(modules: readonly ExposedModule[], credential: ServiceCredential): FastifyPluginAsyncTypebox {
  const hosted = new Map(modules.map((module) => [module.name, module]));
  const gates = new Map(modules.map((module) => [module.name, compileAccess(module.name, module.access)]));
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
      const caller = callers.get(request)!;
      const gate = gates.get(name)?.get(method);
      // A method missing from the access table is closed to everyone, like a caller it doesn't name.
      if (!gate) throw forbidden(`caller ${caller} may not call ${name}.${method}`);
      gate.admit(caller);
      gate.check(request.body.args);
      const target = (module.api as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!;
      const result = await withCaller(`remote:${caller}`, () => target.apply(module.api, request.body.args));
      // A method that answers nothing (void) answers `{}`, so the client answers undefined as the module does.
      return result === undefined ? {} : { result };
    });
  };
}
