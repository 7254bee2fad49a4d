/**
 * Generates docs/architecture.md from the code, so the map of the modules cannot drift from
 * what they are: operations from each contract's method table (and api.ts JSDoc), published
 * events from its `*Events`, consumed events from the subscriptions of a module actually built
 * (with stub dependencies: building does no I/O), tables from its migrations, and calls from its
 * factory's dependencies, cross-checked with its package.json.
 *
 *   node --import tsx scripts/architecture-docs.ts           writes docs/architecture.md
 *   node --import tsx scripts/architecture-docs.ts --check   exit 1 when it is out of date
 *   node --import tsx scripts/architecture-docs.ts --check other.md   the same, against another file
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModule, type ModuleFacts } from './architecture-facts.ts';
import { listModules } from './modules.ts';

export const DOCS_FILE = 'docs/architecture.md';
export const STALE_MESSAGE = `${DOCS_FILE} is out of date: run npm run docs`;

export async function renderArchitecture(root: string): Promise<string> {
  const modules: ModuleFacts[] = [];
  for (const name of await listModules(root)) modules.push(await readModule(root, name));
  const publisherOf = new Map(modules.flatMap((m) => m.publishes.map((event) => [event.type, m.name] as const)));
  const consumed = modules.flatMap((m) => m.consumes.map((type) => ({ consumer: m.name, type, publisher: publisherOf.get(type) })));
  const orphan = consumed.find((edge) => !edge.publisher);
  if (orphan) throw new Error(`${orphan.consumer} consumes ${orphan.type}, which no module's contract publishes`);
  for (const m of modules) {
    const publishers = [...new Set(consumed.filter((edge) => edge.consumer === m.name).map((edge) => edge.publisher!))];
    const undeclared = publishers.filter((publisher) => publisher !== m.name && !m.contractDependencies.includes(publisher));
    if (undeclared.length > 0) throw new Error(`${m.name} consumes events of ${undeclared.join(', ')} without depending on their contract in its package.json`);
  }

  const lines = [
    '<!-- Generated from the code by scripts/architecture-docs.ts: do not edit. Run `npm run docs`. -->',
    '# Architecture (generated)',
    '',
    'The modules as the code defines them. Solid arrows are calls through a contract interface,',
    'from caller to callee; dashed arrows are events, from publisher to consumer. `npm run check`',
    'fails when this file is out of date.',
    '',
    '```mermaid',
    'flowchart LR',
    ...modules.map((m) => `  ${m.name}[${m.name}]`),
    ...modules.flatMap((m) => m.calls.map((call) => `  ${m.name} -->|${call.api}| ${call.module}`)),
    ...eventEdges(consumed).map((edge) => `  ${edge.from} -.->|${edge.types.join(', ')}| ${edge.to}`),
    '```',
  ];
  for (const m of modules) lines.push('', ...canvas(m, publisherOf));
  return `${lines.join('\n')}\n`;
}

/** One dashed edge per (publisher, consumer), labelled with the sorted event types. */
function eventEdges(consumed: readonly { consumer: string; type: string; publisher?: string | undefined }[]) {
  const edges = new Map<string, { from: string; to: string; types: string[] }>();
  for (const { consumer, type, publisher } of consumed) {
    const key = `${publisher} ${consumer}`;
    const edge = edges.get(key) ?? { from: publisher!, to: consumer, types: [] };
    edge.types.push(type);
    edges.set(key, edge);
  }
  return [...edges.values()].map((edge) => ({ ...edge, types: edge.types.sort() })).sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
}

function canvas(m: ModuleFacts, publisherOf: ReadonlyMap<string, string>): string[] {
  const lines = [
    `## ${m.name}`,
    '',
    `Schema \`${m.schema}\`, built by \`${m.factory}\`, package \`${m.packageName}\`, contract \`${m.contractPackage}\`.`,
    '',
    `### Public operations (\`${m.api}\`)`,
    '',
    '| operation | kind | summary |',
    '|---|---|---|',
    ...m.operations.map((op) => `| \`${op.name}\` | ${op.kind} | ${cell(op.summary)} |`),
    '',
    '### Publishes',
    '',
    ...table(['event', 'version', 'summary'], m.publishes.map((event) => [`\`${event.type}\``, `${event.version}`, cell(event.summary)])),
    '',
    '### Consumes',
    '',
    ...table(['event', 'from'], m.consumes.map((type) => [`\`${type}\``, publisherOf.get(type)!])),
    '',
    '### Owns tables',
    '',
    ...m.tables.map((table) => `- \`${m.schema}.${table}\``),
    `- \`${m.schema}.outbox\`, \`${m.schema}.inbox\` (every module's, from platform)`,
    '',
    '### Calls',
    '',
    ...table(['module', 'through', 'factory dependency'], m.calls.map((call) => [call.module, `\`${call.api}\``, `\`${call.dependency}\``])),
  ];
  const unexplained = m.contractDependencies.filter((c) => c !== m.name && !m.calls.some((call) => call.module === c) && !m.consumes.some((type) => publisherOf.get(type) === c));
  if (unexplained.length > 0) {
    lines.push('', `Also depends on the contract of ${unexplained.join(', ')} (package.json) without calling it or consuming its events: types or tests only.`);
  }
  return lines;
}

function table(header: readonly string[], rows: readonly string[][]): string[] {
  if (rows.length === 0) return ['None.'];
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

/** Markdown table cells cannot hold a pipe or a newline. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** Null when the committed docs match what the code generates; otherwise the line to print. */
export function compareDocs(generated: string, committed: string | undefined): string | null {
  return committed === generated ? null : STALE_MESSAGE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const file = path.join(root, DOCS_FILE);
  const generated = await renderArchitecture(root);
  const check = process.argv.indexOf('--check');
  if (check !== -1) {
    // The file to compare may be named (tests point it at a stale copy); by default the committed one.
    const committed = path.resolve(process.argv[check + 1] ?? file);
    const problem = compareDocs(generated, await readFile(committed, 'utf8').catch(() => undefined));
    if (problem) {
      console.error(problem);
      process.exit(1);
    }
    console.log(`${DOCS_FILE} is up to date`);
  } else {
    await writeFile(file, generated);
    console.log(`wrote ${DOCS_FILE}`);
  }
}
