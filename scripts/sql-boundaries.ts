/**
 * SQL boundaries: no module reads, writes or references another module's schema.
 * dependency-cruiser sees imports only; a query on `inventory.products` written inside orders
 * would pass it and fail only once the modules live in separate databases. This script reads
 * the SQL itself: migrations (`migrations/*.sql`) and the string and template literals of the
 * module's TypeScript (`src/**\/*.ts`), never comments, imports or identifiers such as
 * `inventory.api`, which are code, not SQL.
 *
 *   node --import tsx scripts/sql-boundaries.ts [root]    (exit 1 and one line per violation)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { filesUnder, listModules } from './modules.ts';

export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
}

/** A SQL text and where it starts in its file, so matches can be reported by line. */
interface SqlText {
  readonly text: string;
  readonly start: number;
}

export async function checkSqlBoundaries(root: string): Promise<Violation[]> {
  const modules = await listModules(root);
  const violations: Violation[] = [];
  for (const module of modules) {
    const others = modules.filter((other) => other !== module);
    const base = path.join(root, 'packages', module);
    const migrations = await filesUnder(path.join(base, 'migrations'), '.sql');
    const sources = [...(await filesUnder(path.join(base, 'src'), '.sql')), ...(await filesUnder(path.join(base, 'src'), '.ts'))];
    for (const file of [...migrations, ...sources]) {
      const content = await readFile(file, 'utf8');
      const source = file.endsWith('.ts') ? ts.createSourceFile(file, content, ts.ScriptTarget.Latest, true) : undefined;
      const texts = source ? sqlTextsOf(source) : [{ text: withoutSqlComments(content), start: 0 }];
      const at = (offset: number) => ({ file: path.relative(root, file), line: content.slice(0, offset).split('\n').length });
      for (const { text, start } of texts) {
        const foreignKeys = crossSchemaForeignKeys(text, module);
        for (const found of foreignKeys) {
          violations.push({ ...at(start + found.index), rule: `a foreign key of module ${module} references ${found.target}, in another schema: no foreign key crosses schemas` });
        }
        for (const found of otherSchemaNames(text, others)) {
          if (foreignKeys.some((fk) => fk.targetIndex === found.index)) continue; // reported as a foreign key
          violations.push({ ...at(start + found.index), rule: `module ${module} names ${found.name}, a table of module ${found.schema}: a module reads and writes its own schema only` });
        }
      }
      if (source) {
        for (const found of schemaArguments(source, others)) {
          violations.push({ ...at(found.index), rule: `module ${module} selects schema ${found.schema} with ${found.call}(): a module reads and writes its own schema only` });
        }
      }
    }
  }
  return violations;
}

const IDENT = String.raw`"?[A-Za-z_][\w$]*"?`;

/**
 * `REFERENCES other.table`: migrations run with `search_path` set to the module's own schema
 * (packages/platform/src/db/migrate.ts), so an unqualified reference stays inside it and only
 * a schema-qualified one can leave it.
 */
function crossSchemaForeignKeys(sql: string, own: string) {
  const pattern = new RegExp(String.raw`\bREFERENCES\s+(${IDENT})\s*\.\s*(${IDENT})`, 'gi');
  return [...sql.matchAll(pattern)]
    .map((match) => ({ index: match.index, targetIndex: match.index + match[0].indexOf(match[1]!), schema: unquote(match[1]!), target: `${unquote(match[1]!)}.${unquote(match[2]!)}` }))
    .filter((found) => found.schema.toLowerCase() !== own);
}

/** `<schema>.<identifier>` for another module's schema, quoted or not (`"inventory".products`). */
function otherSchemaNames(text: string, others: readonly string[]) {
  if (others.length === 0) return [];
  const pattern = new RegExp(String.raw`(?<![\w$."])("?)(${others.join('|')})\1\.(${IDENT})`, 'gi');
  return [...text.matchAll(pattern)].map((match) => ({ index: match.index, schema: match[2]!.toLowerCase(), name: `${match[2]}.${unquote(match[3]!)}` }));
}

function unquote(identifier: string): string {
  return identifier.replaceAll('"', '');
}

/** SQL with its comments blanked (newlines kept, so lines still count); string literals kept. */
export function withoutSqlComments(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, (token) =>
    token.startsWith('--') || token.startsWith('/*') ? token.replace(/[^\n]/g, ' ') : token,
  );
}

/**
 * The literal text of every string and template literal in a TypeScript file, except module
 * specifiers (`import ... from '@shop/inventory-contract'` is a dependency, not SQL).
 */
function sqlTextsOf(source: ts.SourceFile): SqlText[] {
  const texts: SqlText[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isImportTypeNode(node)) return;
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node)) {
      texts.push({ text: node.getText(source), start: node.getStart(source) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return texts;
}

/** The Kysely and `sql` helpers that take a bare schema name: `.withSchema('inventory')`, `sql.id('inventory', 't')`. */
function schemaArguments(source: ts.SourceFile, others: readonly string[]) {
  const found: { index: number; schema: string; call: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const call = node.expression.name.text;
      const first = node.arguments[0];
      // A lone name is a schema only here: `sql.id('inventory')` or `.table('orders')` name a column or a table.
      const takesSchema = call === 'withSchema' || (call === 'id' && node.arguments.length > 1);
      if (takesSchema && first && ts.isStringLiteralLike(first) && others.includes(first.text)) {
        found.push({ index: first.getStart(source), schema: first.text, call });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function formatViolation(violation: Violation): string {
  return `${violation.file}:${violation.line}: ${violation.rule}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const violations = await checkSqlBoundaries(root);
  for (const violation of violations) console.error(formatViolation(violation));
  if (violations.length > 0) {
    console.error(`${violations.length} SQL boundary violation(s)`);
    process.exit(1);
  }
  console.log('SQL boundaries: no module touches another module\'s schema');
}
