import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The modules of a tree, found by their anatomy rather than listed: a package folder with a
 * `contract/` folder is a module, and its schema is named after it (see `*Migrations.schema`).
 * Sorted, so everything derived from the list is deterministic.
 */
export async function listModules(root: string): Promise<string[]> {
  const packages = path.join(root, 'packages');
  const names = await readdir(packages);
  const modules: string[] = [];
  for (const name of names) {
    if (await isDirectory(path.join(packages, name, 'contract'))) modules.push(name);
  }
  return modules.sort();
}

export async function isDirectory(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isDirectory(), () => false);
}

/** Files under `dir` (recursively) whose name ends with `suffix`, sorted; none when `dir` is missing. */
export async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  if (!(await isDirectory(dir))) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
