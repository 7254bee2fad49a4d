import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Ownership } from './evidence.ts';

/** Where GitHub looks for CODEOWNERS, in its order: the first one found is used. */
const LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];

/** Files that stand for a module's folder: its owners are the union of theirs. */
const SAMPLES = ['package.json', 'src/index.ts', 'contract/src/index.ts'];

export async function readOwnership(root: string, modules: readonly string[]): Promise<Ownership> {
  for (const location of LOCATIONS) {
    const text = await readFile(path.join(root, location), 'utf8').catch(() => undefined);
    if (text !== undefined) return { file: location, modules: ownersOfModules(parseCodeowners(text), modules) };
  }
  return { file: undefined, modules: {} };
}

export interface OwnerRule {
  readonly pattern: string;
  readonly owners: readonly string[];
  readonly matches: (file: string) => boolean;
}

/** `pattern owner...` lines; `#` starts a comment; a pattern without owners un-owns its files. */
export function parseCodeowners(text: string): OwnerRule[] {
  return text.split('\n').flatMap((line) => {
    const [pattern, ...owners] = line.replace(/(^|\s)#.*$/, '').trim().split(/\s+/);
    return pattern ? [{ pattern, owners, matches: matcher(pattern) }] : [];
  });
}

/** The owners of each module's folder (`packages/<module>/`): the last matching rule wins, as on GitHub. */
export function ownersOfModules(rules: readonly OwnerRule[], modules: readonly string[]): Record<string, string[]> {
  const ownersOf = (file: string) => [...rules].reverse().find((rule) => rule.matches(file))?.owners ?? [];
  return Object.fromEntries(modules.map((module) => [module, [...new Set(SAMPLES.flatMap((sample) => ownersOf(`packages/${module}/${sample}`)))].sort()]));
}

/**
 * gitignore-style patterns, as CODEOWNERS uses them: a leading or inner `/` anchors to the root,
 * otherwise the pattern matches at any depth; `*` stays within a path segment, `**` crosses
 * them; a pattern naming a directory owns everything under it.
 */
function matcher(pattern: string): (file: string) => boolean {
  const anchored = pattern.startsWith('/') || pattern.replace(/\/$/, '').includes('/');
  let glob = pattern.replace(/^\//, '').replace(/\/$/, '');
  if (glob.endsWith('/**')) glob = glob.slice(0, -3);
  let regex = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (glob.startsWith('**/', i)) {
      regex += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      regex += '.*';
      i += 1;
    } else if (char === '*') regex += '[^/]*';
    else if (char === '?') regex += '[^/]';
    else regex += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const compiled = new RegExp(`^${anchored ? '' : '(?:.*/)?'}${regex}(?:/.*)?$`);
  return (file) => compiled.test(file);
}
