import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { readEventCounts, readTraffic } from '@shop/distribution';
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
  const [traffic, events, repository] = await Promise.all([
    pool ? readTraffic(pool, { from, to }) : undefined,
    Promise.all(modules.map(async (module) => [module, pool ? await readEventCounts(pool, module, { from, to }) : undefined] as const)),
    repositoryEvidence(root, modules, options.gitDays ?? DEFAULT_GIT_DAYS),
  ]);
  return { modules, window: { from: from.toISOString(), to: to.toISOString(), hours }, traffic, events: Object.fromEntries(events), ...repository };
}

type RepositoryEvidence = Pick<ExtractionEvidence, 'git' | 'owners' | 'compliance'>;

/** How long the repository's evidence is served as it was read: it changes with a deployment, not between two requests. */
export const REPOSITORY_EVIDENCE_TTL_MS = 10 * 60_000;
const repositoryReads = new Map<string, { at: number; value: Promise<RepositoryEvidence>; refreshing: boolean }>();

/**
 * Git history, CODEOWNERS and extraction.config.json, read once and kept: the first report in a
 * process waits for `git log`, later ones never shell out on their request. Once older than the
 * TTL, the next report still gets the kept evidence while a fresh read runs in the background.
 * A read that fails is not kept.
 */
function repositoryEvidence(root: string, modules: readonly string[], gitDays: number): Promise<RepositoryEvidence> {
  const key = JSON.stringify([root, modules, gitDays]);
  const read = async (): Promise<RepositoryEvidence> => {
    const [git, owners, compliance] = await Promise.all([readGitHistory(root, modules, gitDays), readOwnership(root, modules), readComplianceConfig(root, modules)]);
    return { git, owners, compliance };
  };
  const kept = repositoryReads.get(key);
  if (!kept) {
    const value = read();
    repositoryReads.set(key, { at: Date.now(), value, refreshing: false });
    value.catch(() => repositoryReads.delete(key));
    return value;
  }
  if (Date.now() - kept.at >= REPOSITORY_EVIDENCE_TTL_MS && !kept.refreshing) {
    kept.refreshing = true;
    read().then(
      (fresh) => repositoryReads.set(key, { at: Date.now(), value: Promise.resolve(fresh), refreshing: false }),
      () => (kept.refreshing = false),
    );
  }
  return kept.value;
}
