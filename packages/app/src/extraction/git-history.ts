import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { GitHistory } from './evidence.ts';

const run = promisify(execFile);

/**
 * Commits of the last `days` days touching each module's folder (`packages/<module>/`), and how
 * many of those touched no other module's folder. No git, or no repository: said, not guessed.
 */
export async function readGitHistory(root: string, modules: readonly string[], days: number): Promise<GitHistory> {
  const git = (...args: string[]) => run('git', ['-C', root, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  let shallow: boolean;
  try {
    shallow = (await git('rev-parse', '--is-shallow-repository')).stdout.trim() === 'true';
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    const reason = failure.code === 'ENOENT' ? 'git is not installed' : `${root} is not in a git repository (${(failure.stderr ?? failure.message).trim().split('\n')[0]})`;
    return { available: false, reason: `no git history: ${reason}` };
  }
  const { stdout } = await git('log', `--since=${days} days ago`, '--format=%x00%H', '--name-only', '--', 'packages/');
  return { available: true, days, shallow, modules: countCommits(stdout, modules) };
}

/** `git log --format=%x00%H --name-only` output → commits and solo commits per module. */
export function countCommits(log: string, modules: readonly string[]): Record<string, { commits: number; solo: number }> {
  const counts = Object.fromEntries(modules.map((module) => [module, { commits: 0, solo: 0 }]));
  for (const commit of log.split('\0').slice(1)) {
    const touched = new Set(
      commit
        .split('\n')
        .slice(1)
        .map((file) => /^packages\/([^/]+)\//.exec(file.trim())?.[1])
        .filter((module): module is string => module !== undefined && modules.includes(module)),
    );
    for (const module of touched) {
      counts[module]!.commits += 1;
      if (touched.size === 1) counts[module]!.solo += 1;
    }
  }
  return counts;
}
