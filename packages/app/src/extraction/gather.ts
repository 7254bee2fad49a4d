import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { readEventCounts, readTraffic } from '@shop/platform';
import { readComplianceConfig } from './compliance-config.ts';
import { readOwnership } from './codeowners.ts';
import type { ExtractionEvidence } from './evidence.ts';
import { readGitHistory } from './git-history.ts';

/** The repository this code runs from: where git history, CODEOWNERS and extraction.config.json are. */
export const REPOSITORY_ROOT = path.resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

export interface GatherOptions {
  /** The owner's pool (it reads the platform schema and every module's outbox and inbox); none: no run-time evidence. */
  readonly pool: pg.Pool | undefined;
  readonly modules: readonly string[];
  readonly root?: string;
  /** The run-time window, ending now; default 168 h (the outbox keeps 7 days). */
  readonly windowHours?: number;
  /** The git window; default 90 days. */
  readonly gitDays?: number;
  readonly now?: Date;
}

export const DEFAULT_WINDOW_HOURS = 168;
export const DEFAULT_GIT_DAYS = 90;

export async function gatherEvidence(options: GatherOptions): Promise<ExtractionEvidence> {
  const root = options.root ?? REPOSITORY_ROOT;
  const hours = options.windowHours ?? DEFAULT_WINDOW_HOURS;
  const to = options.now ?? new Date();
  const from = new Date(to.getTime() - hours * 3_600_000);
  const { pool, modules } = options;
  const [traffic, events, git, owners, compliance] = await Promise.all([
    pool ? readTraffic(pool, { from, to }) : undefined,
    Promise.all(modules.map(async (module) => [module, pool ? await readEventCounts(pool, module, { from, to }) : undefined] as const)),
    readGitHistory(root, modules, options.gitDays ?? DEFAULT_GIT_DAYS),
    readOwnership(root, modules),
    readComplianceConfig(root, modules),
  ]);
  return { modules, window: { from: from.toISOString(), to: to.toISOString(), hours }, traffic, events: Object.fromEntries(events), git, owners, compliance };
}
