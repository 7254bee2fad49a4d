/**
 * `npm run new-module <name>`: a new module, made the way the four were, registered everywhere
 * the system lists its modules, so that `npm run check` and `npm test` pass right after:
 *
 * - `packages/<name>/contract`: its interface, DTOs, events, error codes and contract (method
 *   kinds, access) — what the kernel derives its remote client and `/internal` routes from;
 * - `packages/<name>`: its kernel declaration (`defineModule`), domain, repository (an
 *   idempotent create), service, routes, handlers, first migration, and tests: a unit test, a
 *   module scenario on a real PostgreSQL, and its contract suite (run local and remote);
 * - registered with the workspace (package.json, package-lock.json and the node_modules link
 *   `npm install` would make), the composition root (packages/app: modules.ts, package.json),
 *   the topology (MODULE_NAMES, the Kubernetes overlays), the contract suites' runner, and the
 *   generated architecture document. The boundary rules find modules by their anatomy.
 *
 *   npm run new-module -- reviews            writes into this checkout
 *   npm run new-module -- reviews --root DIR  writes into another copy of it
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderArchitecture, DOCS_FILE } from './architecture-docs.ts';
import { contractFiles } from './new-module/contract-files.ts';
import { moduleFiles } from './new-module/module-files.ts';
import { namesOf, type ModuleNames } from './new-module/names.ts';
import { registrations, splitOverlay } from './new-module/registrations.ts';
import { testFiles } from './new-module/test-files.ts';

export async function newModule(root: string, name: string): Promise<string[]> {
  const names = namesOf(name);
  const dir = path.join(root, 'packages', name);
  if (existsSync(dir)) throw new Error(`packages/${name} exists already`);
  const written: string[] = [];
  const write = async (file: string, text: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
    written.push(file);
  };
  for (const [file, text] of Object.entries(contractFiles(names))) await write(`packages/${name}/contract/${file}`, text);
  for (const [file, text] of Object.entries({ ...moduleFiles(names), ...testFiles(names) })) await write(`packages/${name}/${file}`, text);
  const split = path.join(root, 'deploy/overlays/split');
  const splitProcesses = (await readdir(split, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  for (const edit of registrations(names, splitProcesses)) {
    const file = path.join(root, edit.file);
    await writeFile(file, edit.change(await readFile(file, 'utf8')));
    written.push(edit.file);
  }
  await write(`deploy/overlays/split/${name}/kustomization.yaml`, splitOverlay(names, splitProcesses));
  await linkWorkspaces(root, names);
  await write(DOCS_FILE, await renderArchitecture(root));
  return written;
}

/** What `npm install` does for a new workspace: a link under node_modules/@shop to each package. */
async function linkWorkspaces(root: string, { module }: ModuleNames): Promise<void> {
  const scope = path.join(root, 'node_modules/@shop');
  await mkdir(scope, { recursive: true });
  for (const [link, target] of [[module, `../../packages/${module}`], [`${module}-contract`, `../../packages/${module}/contract`]] as const) {
    if (!existsSync(path.join(scope, link))) await symlink(target, path.join(scope, link));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 ? path.resolve(args[rootAt + 1] ?? '.') : fileURLToPath(new URL('..', import.meta.url));
  const name = args.find((arg, index) => !arg.startsWith('--') && !(rootAt >= 0 && index === rootAt + 1));
  if (!name) {
    process.stderr.write('usage: npm run new-module -- <name>   (e.g. reviews)\n');
    process.exit(2);
  }
  try {
    const written = await newModule(root, name);
    process.stdout.write(`${written.map((file) => `  ${file}`).join('\n')}\nmodule ${name} made: npm run check && npx vitest run packages/${name} packages/app/test/contracts.test.ts\n`);
  } catch (error) {
    process.stderr.write(`new-module: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
