import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

/** The console's files, next to this one (also in the release: scripts/build.ts copies `public/`). */
const PUBLIC = new URL('./public/', import.meta.url);
const FILES = [
  { route: '/admin', file: 'index.html', type: 'text/html; charset=utf-8' },
  { route: '/admin/console.js', file: 'console.js', type: 'text/javascript; charset=utf-8' },
  { route: '/admin/console.css', file: 'console.css', type: 'text/css; charset=utf-8' },
] as const;
/** The page loads nothing but its own files and talks only to its own origin. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The operators' console at `/admin`: one HTML page, one ES module, one stylesheet, read once at
 * start. No token is needed to load them; every piece of data comes from `/api/admin/...` with
 * the admin token the page asks for. Hidden from the OpenAPI document; with ADMIN_PORT, served
 * only by the admin listener (an operations route, like /docs).
 */
export function consoleRoutes(): FastifyPluginAsync {
  return async (app) => {
    for (const { route, file, type } of FILES) {
      const body = await readFile(new URL(file, PUBLIC));
      app.get(route, { schema: { hide: true } }, async (_request, reply) =>
        reply.type(type).header('cache-control', 'no-cache').header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').send(body),
      );
    }
  };
}
