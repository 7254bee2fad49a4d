import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherEvidence } from '../src/extraction/gather.ts';

/** The report's repository evidence is read once per process, not by a `git log` on every request. */
describe('extraction evidence from the repository', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('is read once and kept: a commit made afterwards shows only in a read that was not kept yet', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'shop-extraction-'));
    dirs.push(root);
    const git = (...args: string[]) => execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { stdio: 'ignore' });
    const commit = async (file: string) => {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), file);
      git('add', '.');
      git('commit', '-q', '-m', file);
    };
    git('init', '-q');
    await commit('packages/orders/a.ts');
    const commitsToOrders = async (gitDays: number) => {
      const evidence = await gatherEvidence({ pool: undefined, modules: ['orders', 'inventory'], root, gitDays });
      return evidence.git.available ? evidence.git.modules.orders?.commits : undefined;
    };

    expect(await commitsToOrders(30)).toBe(1);
    await commit('packages/orders/b.ts');
    expect(await commitsToOrders(30)).toBe(1); // kept: no git log on this request
    expect(await commitsToOrders(31)).toBe(2); // another window: read now
  });
});
