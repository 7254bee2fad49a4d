import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const { forbidden } = require(path.join(root, '.dependency-cruiser.cjs')) as { forbidden: unknown[] };

/**
 * The boundary rules must catch what they claim to: each case seeds one violation in a
 * throwaway tree shaped like ours and expects exactly that rule to fire.
 */
describe('boundary rules (dependency-cruiser)', () => {
  let tree: string;
  beforeAll(async () => {
    tree = await mkdtemp(path.join(tmpdir(), 'shop-boundaries-'));
  });
  afterAll(() => rm(tree, { recursive: true, force: true }));

  async function violationsOf(files: Record<string, string>): Promise<string[]> {
    const dir = await mkdtemp(path.join(tree, 'case-'));
    for (const [file, content] of Object.entries({ ...packageLinks, ...files })) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    // Workspace packages, linked as npm links them, so imports by package name resolve as in the repo.
    for (const name of ['inventory', 'inventory-contract', 'app']) {
      await mkdir(path.join(dir, 'node_modules/@shop'), { recursive: true });
      await symlink(path.join(dir, 'packages', name.replace('-contract', '/contract')), path.join(dir, 'node_modules/@shop', name));
    }
    const result = await cruise(['packages'], {
      ruleSet: { forbidden } as never,
      validate: true,
      baseDir: dir,
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'default'], extensions: ['.ts', '.js'] },
    });
    const output = result.output as { summary: { violations: { rule: { name: string } }[] } };
    return output.summary.violations.map((violation) => violation.rule.name);
  }

  const packageLinks = {
    'packages/inventory/package.json': JSON.stringify({ name: '@shop/inventory', type: 'module', exports: { '.': './src/service.ts' } }),
    'packages/inventory/contract/package.json': JSON.stringify({ name: '@shop/inventory-contract', type: 'module', exports: { '.': './src/index.ts' } }),
    'packages/app/package.json': JSON.stringify({ name: '@shop/app', type: 'module', exports: { '.': './src/app.ts' } }),
  };

  const clean = {
    'packages/inventory/src/service.ts': 'export const service = 1;\n',
    'packages/inventory/contract/src/index.ts': 'export const contract = 1;\n',
    'packages/platform/src/index.ts': 'export const platform = 1;\n',
    'packages/app/src/app.ts': "import { service } from '../../inventory/src/service.ts';\nexport const app = service;\n",
  };

  it('passes a tree that keeps to the rules', async () => {
    expect(await violationsOf({ ...clean, 'packages/orders/src/service.ts': "import { contract } from '../../inventory/contract/src/index.ts';\nexport const x = contract;\n" })).toEqual([]);
  });

  it("passes a module importing another module's contract by its package name", async () => {
    expect(await violationsOf({ ...clean, 'packages/orders/src/service.ts': "import { contract } from '@shop/inventory-contract';\nexport const x = contract;\n" })).toEqual([]);
  });

  it("fails a module importing another module's implementation by its package name", async () => {
    const seeded = { ...clean, 'packages/orders/src/service.ts': "import { service } from '@shop/inventory';\nexport const x = service;\n" };
    expect(await violationsOf(seeded)).toContain('module-reaches-only-contracts');
  });

  it("fails a module importing a file of another module's package that its exports do not expose", async () => {
    const seeded = { ...clean, 'packages/orders/src/service.ts': "import { service } from '@shop/inventory/src/service.ts';\nexport const x = service;\n" };
    expect(await violationsOf(seeded)).toContain('no-unresolvable');
  });

  it("fails a module importing another module's internals by a relative path", async () => {
    const seeded = { ...clean, 'packages/orders/src/service.ts': "import { service } from '../../inventory/src/service.ts';\nexport const x = service;\n" };
    expect(await violationsOf(seeded)).toContain('module-reaches-only-contracts');
  });

  it('fails a contract that depends on a module', async () => {
    const seeded = { ...clean, 'packages/orders/contract/src/index.ts': "import { service } from '../../../inventory/src/service.ts';\nexport const x = service;\n" };
    expect(await violationsOf(seeded)).toContain('contract-is-a-leaf');
  });

  it('fails platform importing a module', async () => {
    const seeded = { ...clean, 'packages/platform/src/bad.ts': "import { contract } from '../../inventory/contract/src/index.ts';\nexport const x = contract;\n" };
    expect(await violationsOf(seeded)).toContain('platform-knows-no-module');
  });

  it('fails platform importing a module by its package name', async () => {
    const seeded = { ...clean, 'packages/platform/src/bad.ts': "import { contract } from '@shop/inventory-contract';\nexport const x = contract;\n" };
    expect(await violationsOf(seeded)).toContain('platform-knows-no-module');
  });

  it('fails a module importing the distribution machinery, or the platform\'s internals', async () => {
    const remote = { ...clean, 'packages/distribution/src/index.ts': 'export const remoteApi = 1;\n', 'packages/orders/src/bad.ts': "import { remoteApi } from '../../distribution/src/index.ts';\nexport const x = remoteApi;\n" };
    expect(await violationsOf(remote)).toContain('modules-never-leave-the-process');
    const internals = { ...clean, 'packages/platform/src/internals.ts': 'export const inTransaction = 1;\n', 'packages/orders/src/bad.ts': "import { inTransaction } from '../../platform/src/internals.ts';\nexport const x = inTransaction;\n" };
    expect(await violationsOf(internals)).toContain('modules-never-leave-the-process');
  });

  it('fails the distribution machinery importing a module', async () => {
    const seeded = { ...clean, 'packages/distribution/src/bad.ts': "import { contract } from '../../inventory/contract/src/index.ts';\nexport const x = contract;\n" };
    expect(await violationsOf(seeded)).toContain('distribution-knows-no-module');
  });

  it('fails the platform importing the distribution machinery', async () => {
    const seeded = { ...clean, 'packages/distribution/src/index.ts': 'export const remoteApi = 1;\n', 'packages/platform/src/bad.ts': "import { remoteApi } from '../../distribution/src/index.ts';\nexport const x = remoteApi;\n" };
    expect(await violationsOf(seeded)).toContain('platform-knows-no-module');
  });

  it('fails a module importing the app by its package name', async () => {
    const seeded = { ...clean, 'packages/orders/src/bad.ts': "import { app } from '@shop/app';\nexport const x = app;\n" };
    expect(await violationsOf(seeded)).toContain('only-app-composes');
  });

  it('fails a module importing the app', async () => {
    const seeded = { ...clean, 'packages/orders/src/bad.ts': "import { app } from '../../app/src/app.ts';\nexport const x = app;\n" };
    expect(await violationsOf(seeded)).toContain('only-app-composes');
  });

  it('fails a cycle between two modules', async () => {
    const seeded = {
      ...clean,
      'packages/orders/src/service.ts': "import { service } from '../../inventory/src/service.ts';\nexport const orders = service;\n",
      'packages/inventory/src/service.ts': "import { orders } from '../../orders/src/service.ts';\nexport const service = orders;\n",
    };
    expect(await violationsOf(seeded)).toContain('no-cycles');
  });

  it('fails a cycle inside a package', async () => {
    const seeded = {
      ...clean,
      'packages/orders/contract/src/index.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'packages/orders/contract/src/b.ts': "import { a } from './index.ts';\nexport const b = a;\n",
    };
    expect(await violationsOf(seeded)).toContain('no-cycles');
  });
});

describe('package exports', () => {
  it("expose a module's entry point and nothing else", () => {
    const fromApp = createRequire(path.join(root, 'packages/app/src/app.ts'));
    expect(fromApp.resolve('@shop/inventory')).toMatch(/packages\/inventory\/src\/index\.ts$/);
    expect(() => fromApp.resolve('@shop/inventory/src/service.ts')).toThrow(/not defined by "exports"|ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});

describe('lint rule against deep package imports', () => {
  it("fails an import of another package's src through its package name", async () => {
    const eslint = new ESLint({ cwd: root });
    const [result] = await eslint.lintText("import { x } from '@shop/inventory/src/service.ts';\nexport const y = x;\n", {
      filePath: path.join(root, 'packages/orders/src/seeded.ts'),
    });
    expect(result!.messages.map((message) => message.ruleId)).toContain('no-restricted-imports');
  });
});
