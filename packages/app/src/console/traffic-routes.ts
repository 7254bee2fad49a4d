import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { Type } from 'typebox';
import { PlatformErrors, requireAdmin } from '@shop/platform';
import { readEventTotals, readRecentTraffic } from '@shop/distribution';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const LiveTraffic = Type.Object(
  {
    at: Type.String({ format: 'date-time', description: "The database's clock when read" }),
    since: Type.String({ format: 'date-time', description: 'The first minute bucket included: the current one and the two before' }),
    calls: Type.Array(
      Type.Object({
        minute: Type.String({ format: 'date-time' }),
        caller: Type.String({ description: 'A module, or `http` for its own routes' }),
        callee: Type.String(),
        via: Type.Union([Type.Literal('in-process'), Type.Literal('remote')], { description: "In the caller's process, or over HTTP to another" }),
        calls: Type.Integer(),
      }),
      { description: 'Calls per minute bucket, caller → callee and way, every process added up, each call once' },
    ),
    requests: Type.Array(Type.Object({ minute: Type.String({ format: 'date-time' }), module: Type.String(), requests: Type.Integer() }), {
      description: "Requests answered by each module's routes, per minute bucket",
    }),
    events: Type.Array(
      Type.Object({
        module: Type.String(),
        published: Nullable(Type.Integer({ description: 'Rows ever inserted into its outbox' })),
        handled: Nullable(Type.Integer({ description: 'Rows ever inserted into its inbox (one per consumer and event)' })),
      }),
      { description: "Running totals from PostgreSQL's table statistics; null where the module's tables are not in this database" },
    ),
    processes: Type.Array(Type.String(), { description: 'The processes whose counts are in the buckets' }),
  },
  { $id: 'LiveTraffic' },
);

export interface TrafficRoutesOptions {
  /** The owner's pool (`Database.pool`): reads the platform schema and every module's table statistics. */
  readonly pool: pg.Pool;
  readonly modules: readonly string[];
}

/**
 * `GET /admin/traffic/live`: counters for the console's live module map, the same from any
 * process of any topology (they are in the database). Counters, not rates: a reader differences
 * two reads. Calls come as minute buckets (what the traffic recorder flushes every 10 s), events
 * as running totals; each answer costs a primary-key range over the last three minutes and one
 * catalog query, and nothing on the request path.
 */
export function trafficRoutes(options: TrafficRoutesOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/admin/traffic/live',
      {
        schema: {
          tags: ['admin'],
          security: [{ bearerAuth: [] }],
          operationId: 'getLiveTraffic',
          errors: [PlatformErrors.forbidden],
          summary: 'Counters of calls between modules (minute buckets, last 3 minutes) and of events published and handled (running totals), for live rates (admin)',
          response: { 200: LiveTraffic },
        },
      },
      async (request) => {
        requireAdmin(request);
        const [traffic, events] = await Promise.all([readRecentTraffic(options.pool), readEventTotals(options.pool, options.modules)]);
        const iso = (date: Date) => date.toISOString();
        return {
          at: iso(traffic.at),
          since: iso(traffic.since),
          calls: traffic.calls.map((row) => ({ ...row, minute: iso(row.minute) })),
          requests: traffic.requests.map((row) => ({ ...row, minute: iso(row.minute) })),
          events,
          processes: [...traffic.processes],
        };
      },
    );
  };
}
