import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * `npm run build`: the release, a folder that runs with Node alone, what `npm start` runs and
 * what the container image ships:
 *
 *   release/dist/          the app bundled (main.js, migrate.js), plain JavaScript
 *   release/packages/…/migrations/   each module's SQL, where its bundled code looks for it
 *   release/packages/app/src/console/public/   the operators' console (/admin): static files
 *   release/package.json   only the npm packages the bundle imports, pinned to what was tested
 *   release/package-lock.json
 *
 * Copied anywhere, `npm ci --omit=dev` inside it and `node dist/main.js` serve (nothing is read
 * from the source tree). In the checkout, the bundle finds the same packages in the workspace's
 * node_modules, so `npm start` needs no second install.
 *
 * Why a bundle: under tsx every start transpiles every source file and carries tsx's loader for
 * the life of the process (+1.5 s to ready and +50 MB of RSS, docs/performance.md). Workspace
 * packages (`@shop/*`) are bundled; npm packages stay external, except the few below. A build
 * whose inputs have not changed since the last one is skipped (`--force` rebuilds).
 */
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const RELEASE = path.join(ROOT, 'release');
const OUT_DIR = path.join(RELEASE, 'dist');
const STAMP = path.join(RELEASE, '.build-stamp');

/**
 * OpenTelemetry's API, context manager and propagators, which every request uses whether tracing
 * is on or not: bundled, they load in about a sixth of the time their many small files take. The
 * SDK, loaded only when tracing is on, imports its own copy of the API; the two share one global
 * registry (the API's design), so the context set here is the one the SDK's spans read.
 */
const OPENTELEMETRY_CONTEXT = ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/context-async-hooks'];

/**
 * npm packages bundled too: pure ESM, loaded by nothing but our code (so there is one copy), and
 * made of many small files whose one-by-one loading was most of a start (importing each alone:
 * TypeBox ~230 ms, Kysely ~170 ms, jose ~60 ms). Also bundled: any package a workspace resolves
 * from its own node_modules (a version that differs from the root's, such as the platform's Ajv
 * 8), with what it imports, so the release's flat package.json never has to choose between two.
 */
const BUNDLED_PACKAGES = new Set(['typebox', 'kysely', 'jose', ...OPENTELEMETRY_CONTEXT]);

const ENTRY_POINTS = {
  main: path.join(ROOT, 'packages/app/src/main.ts'),
  // The migrations alone, then exit: what the Kubernetes migration Job runs (deploy/).
  migrate: path.join(ROOT, 'packages/app/src/migrate-main.ts'),
};

/** The commit the release is built from, for `build_info` (SHOP_COMMIT wins: an image build has no .git). */
function commitOf(): string {
  if (process.env.SHOP_COMMIT) return process.env.SHOP_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}
const COMMIT = commitOf();

/** Every file a build reads, hashed: equal to the last build's means the release is up to date. */
async function inputsHash(): Promise<string> {
  const hash = createHash('sha256').update(COMMIT).update('\0');
  const files = ['package.json', 'package-lock.json', 'scripts/build.ts'];
  for (const dir of await readdir(path.join(ROOT, 'packages'), { recursive: true })) {
    const file = String(dir);
    if (file.includes('node_modules') || file.includes(`${path.sep}test${path.sep}`)) continue;
    if (/(^|\/)(src|migrations)\//.test(file.split(path.sep).join('/')) || file.endsWith('package.json')) files.push(path.join('packages', file));
  }
  for (const file of files.sort()) {
    const full = path.join(ROOT, file);
    if (!existsSync(full) || !(await stat(full)).isFile()) continue;
    hash.update(file).update('\0').update(await readFile(full)).update('\0');
  }
  return hash.digest('hex');
}

/** The folder of `name` as Node finds it from `from`: the nearest `node_modules/<name>` up the tree. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const releasePlugin: Plugin = {
  name: 'release',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      // `#…`: a bundled package's own subpath imports (package.json "imports"), resolved inside it.
      if (isBuiltin(args.path) || args.path.startsWith('@shop/') || args.path.startsWith('#')) return undefined;
      const name = packageName(args.path);
      if (BUNDLED_PACKAGES.has(name)) return undefined;
      // Resolved from a workspace's (or a nested package's) own node_modules: not the root's copy.
      if (packageDir(name, args.resolveDir) !== packageDir(name, ROOT)) return undefined;
      return { path: args.path, external: true };
    });
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      if (contents.includes('import.meta.url')) {
        // The same place inside the release as in the checkout: `../migrations/` lands on the copy.
        const own = path.relative(OUT_DIR, path.join(RELEASE, path.relative(ROOT, args.path))).split(path.sep).join('/');
        contents = contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
      }
      return { contents, loader: 'ts' };
    });
  },
};

async function buildRelease(): Promise<void> {
  const result = await build({
    entryPoints: ENTRY_POINTS,
    outdir: OUT_DIR,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: ROOT,
    // Bundled CommonJS (Ajv) may require Node's built-ins; ESM has no `require` of its own.
    define: { 'process.env.SHOP_COMMIT': JSON.stringify(COMMIT) },
    banner: { js: "import { createRequire as __shopCreateRequire } from 'node:module'; const require = __shopCreateRequire(import.meta.url);" },
    plugins: [releasePlugin],
  });

  // Chunk names carry a hash: what an earlier build left and this one did not write goes. Files are
  // overwritten in place, not the folder emptied first, so a process of the same checkout starting
  // meanwhile (a second `npm start`, as in the extraction guide) never finds its chunks missing.
  const written = new Set(Object.keys(result.metafile.outputs).map((file) => path.resolve(ROOT, file)));
  for (const file of await readdir(OUT_DIR)) {
    if (!written.has(path.join(OUT_DIR, file))) await rm(path.join(OUT_DIR, file), { force: true });
  }

  await copyMigrations();
  const externals = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) if (imported.external && !isBuiltin(imported.path)) externals.add(packageName(imported.path));
  }
  await writeManifest([...externals].sort());
}

/** Files read at run time besides the migrations, at the same path under the release as in the checkout. */
const STATIC_DIRS = ['packages/app/src/console/public'];

/** Each module's `migrations/` and the STATIC_DIRS, at the same path under the release as in the checkout. */
async function copyMigrations(): Promise<void> {
  await rm(path.join(RELEASE, 'packages'), { recursive: true, force: true });
  for (const entry of await readdir(path.join(ROOT, 'packages'), { recursive: true, withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name !== 'migrations') continue;
    const from = path.join(entry.parentPath, entry.name);
    if (from.includes('node_modules') || from.includes(`${path.sep}test${path.sep}`)) continue;
    const to = path.join(RELEASE, path.relative(ROOT, from));
    await mkdir(path.dirname(to), { recursive: true });
    await cp(from, to, { recursive: true });
  }
  for (const dir of STATIC_DIRS) await cp(path.join(ROOT, dir), path.join(RELEASE, dir), { recursive: true });
}

/** package.json naming exactly the packages the bundle imports, at the versions installed here; its lock when they change. */
async function writeManifest(externals: readonly string[]): Promise<void> {
  const root = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
  const app = JSON.parse(await readFile(path.join(ROOT, 'packages/app/package.json'), 'utf8'));
  const dependencies: Record<string, string> = {};
  for (const name of externals) {
    const dir = packageDir(name, ROOT);
    if (!dir) throw new Error(`the bundle imports ${name}, which is not installed`);
    dependencies[name] = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')).version;
  }
  const manifest = {
    name: 'shop',
    version: app.version,
    private: true,
    type: 'module',
    description: `${root.description} (release)`,
    engines: root.engines,
    scripts: { start: 'node --enable-source-maps dist/main.js', migrate: 'node --enable-source-maps dist/migrate.js' },
    dependencies,
    ...(root.allowScripts ? { allowScripts: root.allowScripts } : {}),
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const file = path.join(RELEASE, 'package.json');
  const unchanged = existsSync(file) && (await readFile(file, 'utf8')) === text && existsSync(path.join(RELEASE, 'package-lock.json'));
  if (unchanged) return;
  await writeFile(file, text);
  // Resolves the tree without installing it; npm's cache serves what the checkout installed.
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: RELEASE, stdio: 'inherit' });
}

const force = process.argv.includes('--force');
const hash = await inputsHash();
if (!force && existsSync(STAMP) && (await readFile(STAMP, 'utf8')) === hash && existsSync(path.join(OUT_DIR, 'main.js'))) {
  process.exit(0);
}
await mkdir(OUT_DIR, { recursive: true });
await buildRelease();
await writeFile(STAMP, hash);
