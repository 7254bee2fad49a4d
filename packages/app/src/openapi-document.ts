import type pg from 'pg';
import { InProcessBus, Telemetry, TokenVerifier, buildHttpServer, createLogger, type ModuleDatabase } from '@shop/platform';
import { type ControlPlane } from '@shop/distribution';
import { VERSION, publicApiRoutes } from './app.ts';
import { compose } from './composition.ts';
import { loadConfig } from './config.ts';
import { MODULE_TAGS } from './modules.ts';

/**
 * The OpenAPI document `GET /openapi.json` serves, built without a database, a bus or a
 * listening socket: every module composed as `startApp` composes it (building does no I/O),
 * over stubs that throw if a request ever reached them, the same route list (`publicApiRoutes`)
 * on the same HTTP server, and the document fetched with `inject`. `host` is the one the
 * document's `servers` names, as if the request had come to it.
 */
export async function openApiDocument(host = 'localhost:8080'): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'development' });
  const logger = createLogger('silent');
  const telemetry = new Telemetry({ defaultMetrics: false });
  const untouchable = <T>(what: string) =>
    new Proxy({}, { get: (_target, property) => (property === 'then' ? undefined : () => { throw new Error(`the OpenAPI document touched ${what}.${String(property)}`); }) }) as T;
  const composition = await compose({
    config,
    db: (schema): ModuleDatabase => ({ schema, kysely: untouchable('the database') }),
    bus: new InProcessBus(),
    logger,
    telemetry,
    outbox: config.outbox,
    buildOnly: true,
  });
  const server = await buildHttpServer({
    logger,
    telemetry,
    verifier: new TokenVerifier({ kind: 'hs256', secret: 'openapi-document-only-no-token-is-ever-checked' }),
    moduleTags: MODULE_TAGS,
    apiRoutes: publicApiRoutes({
      moduleRoutes: composition.routes,
      modules: composition.hosted,
      pool: untouchable<pg.Pool>('the database pool'),
      topology: config.topology,
      control: untouchable<ControlPlane>('the control plane'),
    }),
    readiness: async () => ({ ready: false, detail: 'no database' }),
    version: VERSION,
  });
  try {
    const response = await server.inject({ method: 'GET', url: '/openapi.json', headers: { host } });
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body}`);
    return response.json();
  } finally {
    await server.close();
    await composition.close();
  }
}
