import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { Type } from 'typebox';
import { PlatformErrors, requireAdmin } from '@shop/platform';
import { scoreModules } from './criteria.ts';
import { DEFAULT_GIT_DAYS, DEFAULT_WINDOW_HOURS, gatherEvidence } from './gather.ts';

const Criterion = Type.Object({
  criterion: Type.Union([
    Type.Literal('communication_independence'),
    Type.Literal('independent_scaling'),
    Type.Literal('deployment_frequency'),
    Type.Literal('team_ownership'),
    Type.Literal('compliance_isolation'),
  ]),
  score: Type.Integer({ minimum: 0, maximum: 2 }),
  has_evidence: Type.Boolean(),
  evidence: Type.String(),
});

export const ExtractionReportSchema = Type.Object({
  generated_at: Type.String({ format: 'date-time' }),
  window: Type.Object({ from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }), hours: Type.Number() }),
  extract_at: Type.Integer(),
  modules: Type.Array(
    Type.Object({
      module: Type.String(),
      criteria: Type.Array(Criterion),
      total: Type.Integer({ minimum: 0, maximum: 10 }),
      recommend_extraction: Type.Boolean(),
      recommendation: Type.String(),
    }),
  ),
}, { $id: 'ExtractionReport' });

export interface ExtractionRoutesOptions {
  /** The owner's pool (`Database.pool`): reads the platform schema and every module's outbox and inbox. */
  readonly pool: pg.Pool;
  readonly modules: readonly string[];
  /** The repository (git history, CODEOWNERS, extraction.config.json); default: the one this code runs from. */
  readonly root?: string;
}

/** `GET /admin/extraction`: the lesson's five criteria per module, each score beside its evidence (admin). */
export function extractionRoutes(options: ExtractionRoutesOptions): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/admin/extraction',
      {
        schema: {
          tags: ['admin'],
          security: [{ bearerAuth: [] }],
          operationId: 'getExtractionReport',
          errors: [PlatformErrors.forbidden],
          summary: 'Which modules to extract: five criteria scored 0-2 from run-time counts, git history, CODEOWNERS and extraction.config.json; extract at 6/10 (admin)',
          querystring: Type.Object(
            {
              window_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 90, default: DEFAULT_WINDOW_HOURS })),
              git_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, default: DEFAULT_GIT_DAYS })),
            },
            { additionalProperties: false },
          ),
          response: { 200: ExtractionReportSchema },
        },
      },
      async (request) => {
        requireAdmin(request);
        const evidence = await gatherEvidence({
          pool: options.pool,
          modules: options.modules,
          ...(options.root ? { root: options.root } : {}),
          windowHours: request.query.window_hours ?? DEFAULT_WINDOW_HOURS,
          gitDays: request.query.git_days ?? DEFAULT_GIT_DAYS,
        });
        return scoreModules(evidence);
      },
    );
  };
}
