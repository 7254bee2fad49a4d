import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './process.ts';

const run = promisify(execFile);

/**
 * `npm run new-module`, as a team would run it on a fresh clone: in a temporary copy of this
 * tree (its own packages and files, the installed dependencies linked), it makes a module, and
 * then `npm run check` and the new module's tests (unit, module scenario, and its contract suite
 * local and remote) pass there, with no other edit.
 */
describe('npm run new-module', () => {
  let copy: string;
  const NAME = 'wishlists';

  beforeAll(async () => {
    copy = await mkdtemp(path.join(tmpdir(), 'shop-new-module-'));
    await copyTree(REPO_ROOT, copy);
  }, 120_000);
  afterAll(() => rm(copy, { recursive: true, force: true }));

  it('makes a module that passes npm run check and its own tests, registered everywhere modules are listed', async () => {
    const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NODE_ENV: 'test', VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined };
    const made = await run('npm', ['run', '-s', 'new-module', '--', NAME], { cwd: copy, env });
    expect(made.stdout).toContain(`module ${NAME} made`);

    // Registered with the composition root, the topology, the workspace, the deployment and the docs.
    expect(await readFile(path.join(copy, 'packages/app/src/modules.ts'), 'utf8')).toContain(`${NAME}: ${NAME}Module,`);
    expect(await readFile(path.join(copy, 'packages/app/src/topology-config.ts'), 'utf8')).toMatch(new RegExp(`MODULE_NAMES = \\[[^\\]]*'${NAME}'`));
    expect(JSON.parse(await readFile(path.join(copy, 'package.json'), 'utf8')).workspaces).toEqual(expect.arrayContaining([`packages/${NAME}`, `packages/${NAME}/contract`]));
    expect(JSON.parse(await readFile(path.join(copy, 'package-lock.json'), 'utf8')).packages[`node_modules/@shop/${NAME}`]).toEqual({ resolved: `packages/${NAME}`, link: true });
    expect(await readFile(path.join(copy, 'deploy/overlays/split/orders/kustomization.yaml'), 'utf8')).toContain(`${NAME.toUpperCase()}_URL=http://shop-${NAME}:8080`);
    expect(await readFile(path.join(copy, 'docs/architecture.md'), 'utf8')).toContain(`createWishlistsModule`);

    await run('npm', ['run', '-s', 'check'], { cwd: copy, env, maxBuffer: 64 * 1024 * 1024 });

    const tests = await run('npx', ['vitest', 'run', `packages/${NAME}`, 'packages/app/test/contracts.test.ts', '-t', `(${NAME}|Wishlists)`, '--reporter=verbose'], {
      cwd: copy,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    const passed = tests.stdout.split('\n').filter((line) => line.includes('✓'));
    // Unit, module scenario, and the contract suite against the local modules and a remote server process.
    expect(passed.some((line) => line.includes('domain.unit.test.ts'))).toBe(true);
    expect(passed.some((line) => line.includes(`${NAME}.module.test.ts`))).toBe(true);
    expect(passed.filter((line) => line.includes('WishlistsApi contract (local)')).length).toBeGreaterThanOrEqual(4);
    expect(passed.filter((line) => line.includes('WishlistsApi contract (remote)')).length).toBeGreaterThanOrEqual(4);
    // (-t leaves the other modules' suites out: those count as skipped here, and run in contracts.test.ts itself.)
    const summary = tests.stdout.split('\n').find((line) => /^\s*Tests\s/.test(line));
    expect(summary).toMatch(/\b12 passed\b/);
    expect(summary).not.toMatch(/failed/);

    // A second run refuses rather than overwrite a module.
    await expect(run('npm', ['run', '-s', 'new-module', '--', NAME], { cwd: copy, env })).rejects.toMatchObject({ stderr: expect.stringContaining(`packages/${NAME} exists already`) });
    await expect(run('npm', ['run', '-s', 'new-module', '--', 'Bad-Name'], { cwd: copy, env })).rejects.toMatchObject({ stderr: expect.stringContaining('lower-case letters') });
  }, 600_000);
});

/**
 * This tree's files (tracked, and new ones not ignored) into `to`; its installed dependencies
 * linked rather than copied, except the workspace links under node_modules/@shop, which point
 * into the copy (as `npm install` would make them there).
 */
async function copyTree(from: string, to: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: from, maxBuffer: 64 * 1024 * 1024 });
  const files = stdout.split('\0').filter((file) => file && !file.startsWith('node_modules/'));
  for (const file of files) {
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    await cp(path.join(from, file), path.join(to, file), { verbatimSymlinks: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // deleted in the working tree, not yet in git
    });
  }
  await mkdir(path.join(to, 'node_modules'));
  for (const entry of await readdir(path.join(from, 'node_modules'))) {
    if (entry === '@shop') continue;
    await symlink(path.join(from, 'node_modules', entry), path.join(to, 'node_modules', entry));
  }
  await cp(path.join(from, 'node_modules/@shop'), path.join(to, 'node_modules/@shop'), { recursive: true, verbatimSymlinks: true });
  // Workspaces with dependencies of their own versions keep them.
  for (const dir of await readdir(path.join(from, 'packages'))) {
    const nested = path.join(from, 'packages', dir, 'node_modules');
    if (await readdir(nested).then(() => true, () => false)) await symlink(nested, path.join(to, 'packages', dir, 'node_modules'));
  }
}
