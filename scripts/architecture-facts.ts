/**
 * What scripts/architecture-docs.ts says about one module, each fact read from the code that
 * defines it (not from a list kept by hand): the contract's exports and JSDoc, the subscriptions
 * of a module built with stub dependencies, the migrations' CREATE TABLE, the factory's deps type.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { filesUnder, listModules } from './modules.ts';
import { withoutSqlComments } from './sql-boundaries.ts';

export interface ModuleFacts {
  readonly name: string;
  readonly schema: string;
  readonly factory: string;
  readonly packageName: string;
  readonly contractPackage: string;
  /** The contract's interface, e.g. `OrdersApi`. */
  readonly api: string;
  readonly operations: readonly { name: string; kind: string; summary: string }[];
  readonly publishes: readonly { type: string; version: number; summary: string }[];
  readonly consumes: readonly string[];
  readonly tables: readonly string[];
  /** Other modules' interfaces the factory receives. */
  readonly calls: readonly { module: string; api: string; dependency: string }[];
  /** Modules whose contract package.json lists as a dependency (its own included). */
  readonly contractDependencies: readonly string[];
}

export async function readModule(root: string, name: string): Promise<ModuleFacts> {
  const dir = path.join(root, 'packages', name);
  const modules = await listModules(root);
  const apis = new Map<string, string>(); // interface name -> module
  const contractPackages = new Map<string, string>(); // package name -> module
  for (const other of modules) {
    apis.set(apiInterface(await parse(path.join(root, 'packages', other, 'contract/src/api.ts'))).name.text, other);
    contractPackages.set((await readJson(path.join(root, 'packages', other, 'contract/package.json'))).name, other);
  }
  const pkg = await readJson(path.join(dir, 'package.json'));
  const contractDependencies = Object.keys(pkg.dependencies ?? {}).flatMap((dep) => contractPackages.get(dep) ?? []).sort();
  const contractPackage = [...contractPackages].find(([, module]) => module === name)![0];

  const contract = await import(pathToFileURL(path.join(dir, 'contract/src/index.ts')).href);
  const methods = exportEndingWith(contract, 'Methods', name) as Record<string, string>;
  const events = exportEndingWith(contract, 'Events', name) as readonly { type: string; version: number }[];
  const apiDecl = apiInterface(await parse(path.join(dir, 'contract/src/api.ts')));
  const methodDocs = new Map(apiDecl.members.map((member) => [member.name?.getText() ?? '', summaryOf(member)]));
  const eventDocs = eventSummaries(await parse(path.join(dir, 'contract/src/events.ts')));

  const implementation = await import(pathToFileURL(path.join(dir, 'src/index.ts')).href);
  const factory = Object.keys(implementation).find((key) => /^create\w+Module$/.test(key));
  if (!factory) throw new Error(`${name}: src/index.ts exports no create…Module factory`);
  const migrations = Object.values(implementation).find((value): value is { schema: string; directory: string } => typeof value === 'object' && value !== null && 'schema' in value && 'directory' in value);
  if (!migrations) throw new Error(`${name}: src/index.ts exports no *Migrations`);
  const instance = await build(root, implementation[factory], migrations.schema, modules);
  if (instance.name !== name) throw new Error(`${name}: ${factory} builds a module named ${instance.name}`);

  const calls = factoryCalls(await parse(path.join(dir, 'src/index.ts')), factory, apis);
  for (const call of calls) {
    if (!contractDependencies.includes(call.module)) throw new Error(`${name}: ${factory} receives ${call.api} but package.json does not depend on ${call.module}'s contract`);
  }

  return {
    name,
    schema: migrations.schema,
    factory,
    packageName: pkg.name,
    contractPackage,
    api: apiDecl.name.text,
    operations: Object.entries(methods).map(([method, kind]) => ({ name: method, kind, summary: methodDocs.get(method) ?? '' })),
    publishes: events.map((event) => ({ type: event.type, version: event.version, summary: eventDocs.get(event.type) ?? '' })),
    consumes: [...new Set(instance.subscriptions.flatMap((subscription) => subscription.events))].sort(),
    tables: await tablesOf(migrations.directory, migrations.schema),
    calls,
    contractDependencies,
  };
}

/**
 * Builds the module as the composition root would, but with stubs that throw if touched: the
 * database, the bus and every other module's interface. Building must do no I/O (only `start`
 * does), so this reads the real subscriptions without a database. Any other dependency is an
 * empty options object: every optional setting absent (no SMTP, no push keys).
 */
async function build(root: string, factory: (deps: unknown) => { name: string; subscriptions: readonly { events: readonly string[] }[] }, schema: string, modules: readonly string[]) {
  const platform = await import(pathToFileURL(path.join(root, 'packages/platform/src/index.ts')).href);
  const untouchable = (what: string) =>
    new Proxy({}, { get: (_target, property) => (property === 'then' ? undefined : () => { throw new Error(`building a module touched ${what}.${String(property)}`); }) });
  const known: Record<string, unknown> = {
    db: { schema, kysely: untouchable('the database') },
    bus: untouchable('the bus'),
    logger: platform.createLogger('silent'),
    telemetry: new platform.Telemetry({ defaultMetrics: false }),
    ...Object.fromEntries(modules.map((module) => [module, untouchable(`the ${module} interface`)])),
  };
  return factory(new Proxy(known, { get: (target, property: string) => (property in target ? target[property] : {}) }));
}

/** Tables the module's migrations create, in migration order. */
async function tablesOf(directory: string, schema: string): Promise<string[]> {
  const tables: string[] = [];
  for (const file of await filesUnder(directory, '.sql')) {
    const sql = withoutSqlComments(await readFile(file, 'utf8'));
    for (const match of sql.matchAll(/\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("?[\w$]+"?(?:\s*\.\s*"?[\w$]+"?)?)/gi)) {
      tables.push(match[1]!.replaceAll('"', '').replace(/\s/g, '').replace(`${schema}.`, ''));
    }
  }
  return tables;
}

/** Members of the factory's deps interface whose type is another module's interface. */
function factoryCalls(source: ts.SourceFile, factory: string, apis: ReadonlyMap<string, string>) {
  const fn = source.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === factory);
  const depsType = fn?.parameters[0]?.type;
  const depsName = depsType && ts.isTypeReferenceNode(depsType) ? depsType.typeName.getText(source) : undefined;
  const depsDecl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === depsName);
  const members: readonly ts.TypeElement[] = depsDecl?.members ?? [];
  return members
    .filter(ts.isPropertySignature)
    .flatMap((member) => {
      const api = member.type && ts.isTypeReferenceNode(member.type) ? member.type.typeName.getText(source) : '';
      const module = apis.get(api);
      return module ? [{ module, api, dependency: `${depsName}.${member.name.getText(source)}` }] : [];
    })
    .sort((a, b) => a.module.localeCompare(b.module));
}

function apiInterface(source: ts.SourceFile): ts.InterfaceDeclaration {
  const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text.endsWith('Api'));
  if (!found) throw new Error(`${source.fileName} declares no …Api interface`);
  return found;
}

/** `export const X = defineEvent('X', …)` → the JSDoc summary above it, by event type. */
function eventSummaries(source: ts.SourceFile): Map<string, string> {
  const summaries = new Map<string, string>();
  for (const statement of source.statements.filter(ts.isVariableStatement)) {
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      const type = init && ts.isCallExpression(init) ? init.arguments[0] : undefined;
      if (type && ts.isStringLiteral(type)) summaries.set(type.text, summaryOf(statement));
    }
  }
  return summaries;
}

/** The first sentence of a node's JSDoc, on one line. */
function summaryOf(node: ts.Node): string {
  const doc = ts.getJSDocCommentsAndTags(node).find(ts.isJSDoc);
  const text = (ts.getTextOfJSDocComment(doc?.comment) ?? '').replace(/\s+/g, ' ').trim();
  return text.split(/(?<=[.!?])\s+(?=[A-Z`])/)[0] ?? '';
}

function exportEndingWith(exports: Record<string, unknown>, suffix: string, module: string): unknown {
  const names = Object.keys(exports).filter((key) => key.endsWith(suffix));
  if (names.length !== 1) throw new Error(`${module}: its contract should export exactly one …${suffix}, found ${names.length}`);
  return exports[names[0]!];
}

async function parse(file: string): Promise<ts.SourceFile> {
  return ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

async function readJson(file: string): Promise<{ name: string; dependencies?: Record<string, string> }> {
  return JSON.parse(await readFile(file, 'utf8'));
}
