import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { ModuleError } from '@shop/contract-kit';
import { PlatformErrors, invalidInput, principalOf, requireAdmin } from '@shop/platform';
import { DEFAULT_LIMITS, type ControlPlane, type RolloutView } from '@shop/distribution';
import { MODULE_NAMES, type ModuleName, type Topology } from './topology-config.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const Observed = Type.Object({
  remote_calls: Type.Integer(),
  remote_errors: Type.Integer(),
  shadow_calls: Type.Integer(),
  shadow_mismatches: Type.Integer(),
  remote_p99_ms: Nullable(Type.Number()),
  local_p99_ms: Nullable(Type.Number()),
});
const Limits = Type.Object(
  {
    max_error_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Share of remote calls that may fail (unreachable or 5xx); default 0.01' }),
    max_mismatch_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Share of shadowed reads that may differ; default 0 (watched where a shadow is configured)' }),
    max_p99_increase_ms: Type.Integer({ minimum: 0, maximum: 60_000, description: "How much slower the remote p99 may be than the local one; default 250" }),
    min_calls: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Calls a step must see before it is judged or may advance; default 20' }),
  },
  { additionalProperties: false },
);
const Rollout = Type.Object({
  id: Type.String(),
  module: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('rolled_back'), Type.Literal('aborted')]),
  steps: Type.Array(Type.Integer()),
  step_index: Type.Integer(),
  step_percent: Type.Integer(),
  hold_ms: Type.Integer(),
  limits: Limits,
  reason: Nullable(Type.String()),
  started_at: Type.String(),
  step_started_at: Type.String(),
  ended_at: Nullable(Type.String()),
  observed: Observed,
  waiting_for: Nullable(Type.String()),
}, { $id: 'Rollout' });
const ModuleView = Type.Object({
  module: Type.String(),
  /** Null when no process has a remote copy of it (nothing to switch). */
  remote_percent: Nullable(Type.Integer()),
  shadow: Nullable(Type.Boolean()),
  hosted_by: Type.Array(Type.String(), { description: 'Processes (alive replicas) hosting it' }),
  rollout: Nullable(Rollout),
}, { $id: 'ModuleView' });
const Replica = Type.Object({
  id: Type.String(),
  process: Type.String(),
  modules: Type.Array(Type.String()),
  switchable: Type.Array(Type.String()),
  version: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  started_at: Type.String(),
  last_seen: Type.String(),
});
const Placement = Type.Object({ module: Type.String(), hosted: Type.Boolean(), url: Nullable(Type.String()), shadow_url: Nullable(Type.String()) });
const TopologyView = Type.Object({
  modules: Type.Array(ModuleView),
  replicas: Type.Array(Replica),
  this_process: Type.Object(
    {
      replica: Type.String(),
      placements: Type.Array(Placement),
      applied: Type.Array(Type.Object({ module: Type.String(), remote_percent: Nullable(Type.Integer()), shadow: Nullable(Type.Boolean()) }), {
        description: 'The switches as this replica applies them right now: equal to `modules` once it has followed the last change',
      }),
    },
    { description: 'This replica: where it reaches each module (differs between processes by design), and the switches it applies' },
  ),
}, { $id: 'TopologyView' });
const RolloutBody = Type.Object(
  {
    steps: Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 20, description: 'Percentages, increasing, ending at 100; e.g. [1, 5, 25, 50, 100]' }),
    hold_seconds: Type.Integer({ minimum: 0, maximum: 86_400, description: 'How long each step is held (and watched) before the next' }),
    limits: Type.Optional(Type.Partial(Limits)),
  },
  { additionalProperties: false },
);

const ControlErrors = {
  rolloutRunning: { code: 'rollout_running', status: 409, title: 'A rollout is steering this module' },
} as const;

const Mismatch = Type.Object({
  module: Type.String(),
  method: Type.String(),
  replica: Type.String({ description: 'The replica that saw it' }),
  at: Type.String(),
  args: Type.Unknown({ description: 'The call, redacted' }),
  local: Type.Unknown({ description: "The local (served) answer, redacted: the value, or { error: { code, detail } }" }),
  shadow: Type.Unknown({ description: "The copy's answer, redacted, in the same form" }),
});

const tags = ['admin'];
const security = [{ bearerAuth: [] }];
const ModuleParams = Type.Object({ module: Type.Union(MODULE_NAMES.map((name) => Type.Literal(name))) });

/**
 * The deployment's switches (admin), the same from every replica of every process: they live in
 * the database (ControlPlane), and each replica follows a change within its poll interval.
 */
export function topologyRoutes(topology: Topology, control: ControlPlane): FastifyPluginAsyncTypebox {
  async function moduleViews(): Promise<Static<typeof ModuleView>[]> {
    const [switches, replicas, rollouts] = await Promise.all([control.switches(), control.replicas(), Promise.all(MODULE_NAMES.map((name) => control.rollout(name)))]);
    return MODULE_NAMES.map((name, i) => {
      const sw = switches.find((candidate) => candidate.module === name);
      const switchable = replicas.some((replica) => replica.switchable.includes(name));
      return {
        module: name,
        remote_percent: sw && switchable ? sw.remote_percent : null,
        shadow: sw ? sw.shadow : null,
        hosted_by: [...new Set(replicas.filter((replica) => replica.modules.includes(name)).map((replica) => replica.process))],
        rollout: rollouts[i] ?? null,
      };
    });
  }
  const moduleView = async (name: string) => (await moduleViews()).find((view) => view.module === name)!;
  /** Only a module some live replica has a remote copy of can be switched or rolled out. */
  async function requireSwitchable(name: ModuleName): Promise<void> {
    const replicas = await control.replicas();
    if (!replicas.some((replica) => replica.switchable.includes(name))) {
      throw new ModuleError(PlatformErrors.notFound, `no process has a remote copy of ${name}: host it (MODULES) and set ${name.toUpperCase()}_URL to switch its traffic`);
    }
  }
  const by = (request: FastifyRequest) => `admin:${principalOf(request).sub}`;

  return async (app) => {
    app.get('/admin/topology', { schema: { tags, security, operationId: 'getTopology', summary: 'The deployment: switches and rollouts per module, and the replicas alive (admin)', response: { 200: TopologyView }, errors: [PlatformErrors.forbidden] } }, async (request) => {
      requireAdmin(request);
      const [modules, replicas] = await Promise.all([moduleViews(), control.replicas()]);
      const placements = MODULE_NAMES.map((name) => {
        const where = topology.modules[name];
        return { module: name, hosted: where.hosted, url: where.url ?? null, shadow_url: where.shadowUrl ?? null };
      });
      return { modules, replicas, this_process: { replica: control.replicaId, placements, applied: control.applied() } };
    });

    app.put(
      '/admin/topology/:module/remote-percent',
      {
        schema: {
          tags,
          security,
          operationId: 'setRemotePercent',
          errors: [PlatformErrors.forbidden, PlatformErrors.notFound, ControlErrors.rolloutRunning],
          summary: "Change the share of a module's calls sent to its remote copy, on every replica, without a restart (admin). Sticky per key: raising it only moves keys to the remote side. Refused (409) while a rollout steers the module.",
          params: ModuleParams,
          body: Type.Object({ percent: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
          response: { 200: ModuleView },
        },
      },
      async (request) => {
        requireAdmin(request);
        const name = request.params.module as ModuleName;
        await requireSwitchable(name);
        if (!(await control.setRemotePercent(name, request.body.percent, by(request)))) {
          throw new ModuleError(ControlErrors.rolloutRunning, `a rollout is steering ${name}: abort it first (DELETE /api/admin/topology/${name}/rollout)`);
        }
        request.log.info({ module: name, percent: request.body.percent }, 'remote percent changed');
        return moduleView(name);
      },
    );

    app.get(
      '/admin/shadow/mismatches',
      {
        schema: {
          tags,
          security,
          operationId: 'listShadowMismatches',
          errors: [PlatformErrors.forbidden],
          summary: 'The latest shadow mismatches (up to 20 per module and method, from every replica), both answers side by side with personal data redacted (admin)',
          querystring: Type.Object(
            { module: Type.Optional(Type.Union(MODULE_NAMES.map((name) => Type.Literal(name)))), method: Type.Optional(Type.String({ maxLength: 64 })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ mismatches: Type.Array(Mismatch) }) },
        },
      },
      async (request) => {
        requireAdmin(request);
        return { mismatches: await control.mismatches(request.query) };
      },
    );

    app.put(
      '/admin/topology/:module/shadow',
      {
        schema: {
          tags,
          security,
          operationId: 'setShadow',
          errors: [PlatformErrors.forbidden, PlatformErrors.notFound],
          summary: "Turn the shadowing of a module's reads on or off, on every replica (admin)",
          params: ModuleParams,
          body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }),
          response: { 200: ModuleView },
        },
      },
      async (request) => {
        requireAdmin(request);
        const name = request.params.module as ModuleName;
        const view = await moduleView(name);
        if (view.shadow === null) throw new ModuleError(PlatformErrors.notFound, `no process shadows ${name}: set ${name.toUpperCase()}_SHADOW_URL where it is hosted`);
        await control.setShadow(name, request.body.enabled, by(request));
        return moduleView(name);
      },
    );

    app.post(
      '/admin/topology/:module/rollout',
      {
        schema: {
          tags,
          security,
          operationId: 'startRollout',
          errors: [PlatformErrors.forbidden, PlatformErrors.notFound, ControlErrors.rolloutRunning],
          summary: "Ramp a module's calls over to its remote copy step by step, rolling back to 0% by itself the moment a limit is breached (admin)",
          params: ModuleParams,
          body: RolloutBody,
          response: { 201: Rollout },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        const name = request.params.module as ModuleName;
        const { steps, hold_seconds: holdSeconds } = request.body;
        steps.forEach((step, i) => {
          if (i > 0 && step <= steps[i - 1]!) throw invalidInput(`body.steps[${i}]`, 'steps must increase');
        });
        if (steps.at(-1) !== 100) throw invalidInput(`body.steps[${steps.length - 1}]`, 'the last step must be 100');
        await requireSwitchable(name);
        const started = await control.startRollout(name, { steps, hold_ms: holdSeconds * 1000, limits: { ...DEFAULT_LIMITS, ...request.body.limits } }, by(request));
        if (!started) throw new ModuleError(ControlErrors.rolloutRunning, `a rollout of ${name} is already running`);
        return reply.code(201).send(started);
      },
    );

    app.get(
      '/admin/topology/:module/rollout',
      { schema: { tags, security, operationId: 'getRollout', summary: "The module's running rollout, else its latest (admin)", params: ModuleParams, response: { 200: Rollout }, errors: [PlatformErrors.forbidden, PlatformErrors.notFound] } },
      async (request) => {
        requireAdmin(request);
        const rollout = await control.rollout(request.params.module);
        if (!rollout) throw new ModuleError(PlatformErrors.notFound, `${request.params.module} has had no rollout`);
        return rollout;
      },
    );

    app.delete(
      '/admin/topology/:module/rollout',
      { schema: { tags, security, operationId: 'abortRollout', summary: 'Abort the running rollout: the module goes back to 0% (admin)', params: ModuleParams, response: { 200: Rollout }, errors: [PlatformErrors.forbidden, PlatformErrors.notFound] } },
      async (request): Promise<RolloutView> => {
        requireAdmin(request);
        const aborted = await control.abortRollout(request.params.module, by(request));
        if (!aborted) throw new ModuleError(PlatformErrors.notFound, `no rollout of ${request.params.module} is running`);
        return aborted;
      },
    );
  };
}
