import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError } from '@shop/contract-kit';
import { PlatformErrors, requireAdmin, type RemotePercent } from '@shop/platform';
import { MODULE_NAMES, type ModuleName, type Topology } from './topology-config.ts';

const Placement = Type.Object({
  module: Type.String(),
  hosted: Type.Boolean(),
  url: Type.Union([Type.String(), Type.Null()]),
  shadow_url: Type.Union([Type.String(), Type.Null()]),
  remote_percent: Type.Union([Type.Integer(), Type.Null()]),
});
const tags = ['admin'];
const security = [{ bearerAuth: [] }];

/** Where each module runs as this process sees it, and the run-time traffic switch (admin). */
export function topologyRoutes(topology: Topology, switches: ReadonlyMap<ModuleName, RemotePercent>): FastifyPluginAsyncTypebox {
  const placements = () =>
    MODULE_NAMES.map((name) => {
      const where = topology.modules[name];
      return { module: name, hosted: where.hosted, url: where.url ?? null, shadow_url: where.shadowUrl ?? null, remote_percent: switches.get(name)?.get() ?? null };
    });
  return async (app) => {
    app.get('/admin/topology', { schema: { tags, security, summary: 'Where each module runs, as this process sees it (admin)', response: { 200: Type.Array(Placement) } } }, async (request) => {
      requireAdmin(request);
      return placements();
    });

    app.put(
      '/admin/topology/:module/remote-percent',
      {
        schema: {
          tags,
          security,
          summary: "Change the share of a module's calls sent to its remote copy, now, without a restart (admin). Sticky per key: raising it only moves keys to the remote side.",
          params: Type.Object({ module: Type.Union(MODULE_NAMES.map((name) => Type.Literal(name))) }),
          body: Type.Object({ percent: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
          response: { 200: Placement },
        },
      },
      async (request) => {
        requireAdmin(request);
        const name = request.params.module as ModuleName;
        const percent = switches.get(name);
        if (!percent) {
          throw new ModuleError(PlatformErrors.notFound, `${name} has no remote copy here: host it (MODULES) and set ${name.toUpperCase()}_URL to switch its traffic`);
        }
        percent.set(request.body.percent);
        request.log.info({ module: name, percent: request.body.percent }, 'remote percent changed');
        return placements().find((placement) => placement.module === name)!;
      },
    );
  };
}
